// civicline: small progressive enhancements. The pages work without this script.
// The SMS composer shows characters, encoding and segments as you type (the server counts
// again when it sends; this mirrors src/sms/segments.rs and src/sms/text.rs).
(function () {
  "use strict";
  var BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var EXTENSION = "^{}\\[~]|€\f";
  var LOOKALIKES = { "\u2018": "'", "\u2019": "'", "\u201A": "'", "\u201B": "'", "\u2032": "'", "\u00B4": "'", "`": "'",
    "\u201C": "\"", "\u201D": "\"", "\u201E": "\"", "\u2033": "\"", "\u00AB": "\"", "\u00BB": "\"",
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-",
    "\u2026": "...", "\u00A0": " ", "\u2007": " ", "\u2009": " ", "\u202F": " ", "\u200B": "", "\u2022": "-", "\t": " " };

  function cost(text) {
    var plain = "";
    for (var ch of text) { plain += (ch in LOOKALIKES) ? LOOKALIKES[ch] : ch; }
    var septets = 0, gsm = true;
    for (var c of plain) {
      if (BASIC.indexOf(c) >= 0) { septets += 1; }
      else if (EXTENSION.indexOf(c) >= 0) { septets += 2; }
      else { gsm = false; break; }
    }
    var units = gsm ? septets : plain.length; // JS strings are UTF-16
    var single = gsm ? 160 : 70, part = gsm ? 153 : 67;
    var segments = units <= single ? 1 : Math.ceil(units / part);
    return { chars: [...text].length, encoding: gsm ? "GSM-7" : "UCS-2 (Unicode)", segments: segments };
  }

  // A public note is texted with a status notice (data-sms-prefix): counted with it, and at
  // most two segments, as the server checks (gateway::notices::MAX_NOTICE_SEGMENTS).
  document.querySelectorAll("textarea[data-sms-counter]").forEach(function (area) {
    var out = document.getElementById(area.getAttribute("data-sms-counter"));
    var prefix = area.getAttribute("data-sms-prefix");
    function update() {
      var note = area.value.trim();
      var text = prefix === null ? area.value : (note ? note + " " + prefix : prefix);
      var c = cost(text);
      var line = c.chars + " characters · " + c.encoding + " · " + c.segments + (c.segments === 1 ? " SMS" : " SMS segments");
      if (prefix !== null) { line = "With the notice: " + line + (c.segments > 2 ? " · too long, at most 2" : ""); }
      out.textContent = line;
    }
    area.addEventListener("input", update);
    update();
  });
})();

// Live updates: when something changes, the queue (or the issue being read) reloads, unless the
// official is typing. Without EventSource or script the page is simply reloaded by hand.
//
// One stream per browser, not per tab. A browser keeps at most six HTTP/1.1 connections to a
// host, and an EventSource holds one for as long as its page lives, pages kept in the
// back/forward cache included: with a stream per page, the seventh page (a sixth tab, or
// clicking back and forth) waited forever for a connection. So the tab that holds the Web Lock
// "civicline-live" opens the one stream and passes every event to the other tabs over a
// BroadcastChannel; when that tab goes, the next one waiting on the lock takes over. A page
// that is hidden (pagehide: closed, navigated away from, put in the back/forward cache) lets
// go of its stream, its lock and its channel, and takes them up again when shown (pageshow).
// Where Web Locks or BroadcastChannel are missing, each page has its own stream, still closed
// on pagehide.
(function () {
  "use strict";
  if (!window.EventSource) { return; }
  var live = document.querySelector("[data-live]");
  if (!live) { return; }
  var issue = live.getAttribute("data-live"); // "" on the queue, an issue id on an issue page
  var pending = false;
  var source = null, channel = null, release = null, abandon = null;
  function typing() {
    var el = document.activeElement;
    return el && (el.tagName === "TEXTAREA" || el.tagName === "INPUT" || el.tagName === "SELECT") && el.value;
  }
  function reload() {
    if (typing()) { pending = true; return; }
    window.location.reload();
  }
  // data: the changed issues' ids, comma-separated, or "*" (src/web/queue/live.rs).
  function changed(data) {
    if (issue === "" || data === "*" || data.split(",").indexOf(issue) !== -1) { reload(); }
  }
  function open() {
    source = new EventSource("/queue/events");
    source.addEventListener("issue", function (event) {
      if (channel) { channel.postMessage(event.data); }
      changed(event.data);
    });
  }
  function start() {
    if (!(window.BroadcastChannel && navigator.locks && window.AbortController)) { open(); return; }
    channel = new BroadcastChannel("civicline-live");
    channel.onmessage = function (event) { changed(event.data); };
    abandon = new AbortController();
    navigator.locks.request("civicline-live", { signal: abandon.signal }, function () {
      open();
      return new Promise(function (resolve) { release = resolve; });
    }).catch(function () { /* abandoned on pagehide before the lock came */ });
  }
  function stop() {
    if (source) { source.close(); source = null; }
    if (release) { release(); release = null; }
    if (abandon) { abandon.abort(); abandon = null; }
    if (channel) { channel.close(); channel = null; }
  }
  window.addEventListener("pagehide", stop);
  window.addEventListener("pageshow", function (event) { if (event.persisted) { start(); } });
  document.addEventListener("focusout", function () { if (pending) { pending = false; setTimeout(reload, 500); } });
  start();
})();

// Canned replies: "Edit first" copies the text into the composer.
(function () {
  "use strict";
  document.querySelectorAll("button[data-fill]").forEach(function (button) {
    button.addEventListener("click", function () {
      var area = document.getElementById(button.getAttribute("data-fill"));
      area.value = button.form.querySelector("input[name=body]").value;
      area.dispatchEvent(new Event("input"));
      area.focus();
    });
  });
})();
