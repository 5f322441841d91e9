-- One index fewer to write with every report: each index on issue is one more b-tree insert
-- per report and one more page per commit of the writer lane (issue 20, BENCHMARKS.md).
--
-- issue_open_queue served the queue's first version. The queue's page now filters on columns
-- its officials choose and puts overdue issues first, and no statement's plan reads this
-- index any more (EXPLAIN QUERY PLAN of every statement of src/store and src/gateway).
drop index issue_open_queue;
