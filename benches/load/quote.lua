-- wrk script: POST a typical quote request (business cards, 2 finishings,
-- trade group, tax, currency conversion).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"product":"business-card","quantity":500,"paper":"silk-350","color":"4/4","finishing":["matt-lam","round-corners"],"turnaround":"express","customer_group":"trade","region":"DE","currency":"GBP"}'
