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

  document.querySelectorAll("textarea[data-sms-counter]").forEach(function (area) {
    var out = document.getElementById(area.getAttribute("data-sms-counter"));
    function update() {
      var c = cost(area.value);
      out.textContent = c.chars + " characters · " + c.encoding + " · " + c.segments + (c.segments === 1 ? " SMS" : " SMS segments");
    }
    area.addEventListener("input", update);
    update();
  });
})();

// Live updates: when something changes, the queue (or the issue being read) reloads, unless the
// official is typing. Without EventSource or script the page is simply reloaded by hand.
(function () {
  "use strict";
  if (!window.EventSource) { return; }
  var live = document.querySelector("[data-live]");
  if (!live) { return; }
  var issue = live.getAttribute("data-live"); // "" on the queue, an issue id on an issue page
  var source = new EventSource("/queue/events");
  var pending = false;
  function typing() {
    var el = document.activeElement;
    return el && (el.tagName === "TEXTAREA" || el.tagName === "INPUT" || el.tagName === "SELECT") && el.value;
  }
  function reload() {
    if (typing()) { pending = true; return; }
    window.location.reload();
  }
  source.addEventListener("issue", function (event) {
    if (issue === "" || event.data === issue || event.data === "*") { reload(); }
  });
  document.addEventListener("focusout", function () { if (pending) { pending = false; setTimeout(reload, 500); } });
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
