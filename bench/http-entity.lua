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

-- count non-200 answers so a broken key or rate limit is not mistaken for speed
local non200 = 0
response = function(status, headers, body)
  if status ~= 200 then non200 = non200 + 1 end
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.stderr:write(string.format("non2xx/3xx(status)=%d connect=%d read=%d write=%d timeout=%d\n",
    e.status, e.connect, e.read, e.write, e.timeout))
end
