-- wrk script: POST /api/v1/orders (checkout) with a fresh Idempotency-Key
-- per request, so every request creates an order. The body (a signed
-- quote's line) and the bearer token come from the environment
-- (benches/load/checkout.sh prepares them).
local threads = 0

function setup(thread)
    thread:set("tid", threads)
    threads = threads + 1
end

function init(args)
    body = os.getenv("CHECKOUT_BODY")
    token = os.getenv("ACCESS_TOKEN")
    run = os.getenv("RUN_ID") or "run"
    counter = 0
end

function request()
    counter = counter + 1
    local headers = {
        ["Content-Type"] = "application/json",
        ["Authorization"] = "Bearer " .. token,
        ["Idempotency-Key"] = run .. "-" .. tid .. "-" .. counter,
    }
    return wrk.format("POST", "/api/v1/orders", headers, body)
end
