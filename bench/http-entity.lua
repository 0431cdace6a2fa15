-- wrk script: POST the same entity-match pair to /api/v1/match/entity.
-- Key from the KCMF_API_KEY environment variable (bench/http.sh sets it).
-- After warm-up the answer comes from the result cache; this measures the
-- cached path: routing, auth, rate limiting, body parsing, cache lookup, JSON out.
wrk.method = "POST"
wrk.path = "/api/v1/match/entity"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-API-Key"] = os.getenv("KCMF_API_KEY") or ""
wrk.body = os.getenv("KCMF_BODY") or
  '{"left": {"name": "Jonathan Smith", "email": "jon.smith@example.com", "city": "Springfield", "dob": "1984-02-29"},' ..
  ' "right": {"name": "Jon Smith", "email": "jon.smith@example.com", "city": "Springfield", "dob": "29/02/1984"}}'

-- No per-response Lua callback: a `response` function makes wrk hand every
-- answer to Lua, which costs wrk (on the same 2 cores) more CPU than the
-- "hello" run it is compared with. Non-2xx answers are counted by wrk itself
-- ("Non-2xx or 3xx responses"), and bench/http.sh reports them.
