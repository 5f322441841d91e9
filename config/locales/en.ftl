# Replies civicline texts to citizens, in English.
# Each must fit one SMS segment (160 GSM-7 characters) with realistic values: a test checks it.
# Name the report number and the next thing the citizen can text.

report-logged = Thanks! Report #{ $number } ({ $category }) is logged. Text STATUS { $number } for updates.
report-logged-uncategorized = Thanks! Report #{ $number } is logged. Text STATUS { $number } for updates.
followup-added = Thanks, we added this to report #{ $number }. Text STATUS { $number } for updates.
status-report = Report #{ $number } ({ $category }): { $status ->
        [open] received, waiting for review
        [acknowledged] seen by the city
        [in_progress] work in progress
        [resolved] resolved
       *[other] closed
    }. Reply with more details anytime.
status-not-found = We found no report #{ $number } from this number. Text STATUS to see your latest report.
status-none = You have no reports yet. Text the problem and where it is, e.g. POTHOLE Main St & 5th.
help = City SMS line: text a problem and where, e.g. POTHOLE Main St & 5th. STATUS 12 checks report 12. STOP to opt out.
empty-message = We got an empty message. Text the problem and where it is, e.g. POTHOLE Main St & 5th.
opted-out = You are unsubscribed and will get no more texts from this number. Text START to resubscribe.
opted-in = You are subscribed again. Text HELP for help or STOP to opt out.
uncategorized = Report
