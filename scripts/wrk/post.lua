-- wrk script: POST the body in file BODY with CONTENT_TYPE (and SOAPACTION,
-- when set), and count any answer other than 200 as an error.
local f = assert(io.open(os.getenv("BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = os.getenv("CONTENT_TYPE")
local action = os.getenv("SOAPACTION")
if action and action ~= "" then wrk.headers["SOAPAction"] = action end

local bad = 0
response = function(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end

done = function(summary, latency, requests)
  io.write(string.format("non200=%d\n", bad))
end
