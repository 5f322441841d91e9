# Replies civicline texts to citizens, in English.
# Each must fit one SMS segment (160 GSM-7 characters) with realistic values: a test checks it.
# Name the report number and the next thing the citizen can text.

report-logged = Thanks! Report #{ $number } ({ $category }) is logged. Text STATUS { $number } for updates.
report-logged-uncategorized = Thanks! Report #{ $number } is logged. Text STATUS { $number } for updates.
report-ask-location = Thanks! Report #{ $number } ({ $category }) is logged. Where is it? Reply with the street and cross street, or SKIP.
report-ask-area = Thanks! Report #{ $number } ({ $category }) is logged. Which neighbourhood is it in? Reply with its name, or SKIP.
location-saved = Thanks! We saved the place for report #{ $number }. Text STATUS { $number } for updates.
location-skipped = OK. Report #{ $number } is logged without a place. Text STATUS { $number } for updates.
followup-added = Thanks, we added this to report #{ $number }. Text STATUS { $number } for updates.
report-joined = Already reported as #{ $number }. We will text you when it is fixed.
status-report = Report #{ $number } ({ $category }): { $status ->
        [open] received, waiting for review
        [acknowledged] seen by the city
        [in_progress] work in progress
        [resolved] resolved
       *[other] closed
    }. Reply with more details anytime.
status-report-due = Report #{ $number } ({ $category }): { $status ->
        [open] received, waiting for review
        [acknowledged] seen by the city
        [in_progress] work in progress
        [resolved] resolved
       *[other] closed
    }. The city aims to fix it by { $due }.
status-not-found = We found no report #{ $number } from this number. Text STATUS to see your latest report.
status-none = You have no reports yet. Text the problem and where it is, e.g. POTHOLE Main St & 5th.
help = Text a problem and where, e.g. POTHOLE Main St & 5th. Words: { $keywords }. STATUS 12 checks report 12. STOP to opt out.
empty-message = We got an empty message. Text the problem and where it is, e.g. POTHOLE Main St & 5th.
opted-out = You are unsubscribed and will get no more texts from this number. Text START to resubscribe.
opted-in = You are subscribed again. Text HELP for help or STOP to opt out.
lang-set = OK, we will answer in English. Text HELP for the words you can use.
lang-unknown = Languages: { $languages }. Text LANG and one of them, e.g. LANG ES.
joined = You will get { $topic } alerts. Text LEAVE { $keyword } to stop them, STOP to stop all texts.
left = You will get no more { $topic } alerts. Text JOIN { $keyword } to get them again.
topic-unknown = Topics you can join: { $topics }. Text JOIN and a topic, e.g. JOIN { $example }.
status-notice = Report #{ $number } ({ $category }) is now { $status ->
        [open] open again
        [acknowledged] seen by the city
        [in_progress] in progress
        [resolved] resolved
        [closed_duplicate] closed: already reported
        [closed_not_ours] closed: not handled by the city
       *[other] closed
    }.
resolved-question = Report #{ $number } ({ $category }) is resolved. Is it fixed? Reply 1 for yes, 2 for no.
fixed-confirmed = Thank you for confirming report #{ $number } is fixed!
reopened = Sorry it is not fixed. Report #{ $number } is open again and the city will look at it.
uncategorized = Report

# USSD screens (a menu a basic phone shows; at most 182 characters with the list in it).
ussd-main =
    City line
    1 Report a problem
    2 Track a report
    3 Language
ussd-categories = What is the problem?
ussd-where =
    Where is it? Street and cross street, or a landmark.
    0 Back
ussd-confirm =
    { $category }: { $place }
    1 Send
    0 Back
ussd-filed = Thanks! Report #{ $number } ({ $category }) is logged. We will text you when it changes.
ussd-track =
    Your report number?
    0 Back
ussd-languages = Language:
ussd-invalid = Not a choice.
ussd-back = 0 Back
ussd-unavailable = Sorry, we cannot take this now. Please try again soon, or text us.
# Polls: the line under a poll's options; the thanks for a counted answer and for other words.
poll-invite = Reply with a number from 1 to { $last }.
poll-counted = Thanks! Your answer to poll #{ $number } is counted.
poll-noted = Thanks, we noted your reply to poll #{ $number }. To report a problem, text HELP.
