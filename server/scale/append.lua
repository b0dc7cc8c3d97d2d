-- One entry into a room's log, atomically: the next seq, the two bounded
-- streams (messages, and join/leave notices and presence batches, so a crowd
-- reconnecting cannot push the chat out of reach), presence, and the publish
-- that carries the entry to every server. Nothing else writes these keys, so
-- seq order in the streams is the order every subscriber receives.
--
-- KEYS: meta (hash: epoch, seq, lost), messages, notices (streams, ids
-- "<seq>-0", field e = the entry's JSON), presence (hash: clientId -> member)
-- ARGV: kind, head, tail, except, fresh epoch, limit, channel, ttl ms, whole
-- (a presence batch's every member, as JSON, when its entry's lists are
-- capped; published after the entry, never stored), then pairs of clientId
-- and member JSON ('' for one that left)
local meta, messages, notices, presence = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local kind, head, tail, except, fresh = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local limit, channel, ttl, whole = tonumber(ARGV[6]), ARGV[7], tonumber(ARGV[8]), ARGV[9]

local epoch = redis.call('HGET', meta, 'epoch')
if not epoch or (redis.call('EXISTS', messages) == 0 and redis.call('EXISTS', notices) == 0) then
  -- A room never written to, or one whose log is gone (Redis restarted
  -- without persistence, the keys expired): a new epoch, so that no cursor
  -- from the old log can claim to resume into this one.
  epoch = fresh
  redis.call('DEL', messages, notices)
  redis.call('HSET', meta, 'epoch', epoch, 'seq', 0, 'lost', 0)
end

for i = 10, #ARGV, 2 do
  if ARGV[i + 1] == '' then
    redis.call('HDEL', presence, ARGV[i])
  else
    redis.call('HSET', presence, ARGV[i], ARGV[i + 1])
  end
end
if kind == 'presence' then
  -- Who is in the room on every server, once this batch is applied (a JSON
  -- string cannot hold this pattern: its quotes are escaped).
  tail = string.gsub(tail, '"memberCount":%d+', '"memberCount":' .. redis.call('HLEN', presence), 1)
end

local seq = redis.call('HINCRBY', meta, 'seq', 1)
-- The entry's JSON in the hub's field order, with seq, epoch and id filled in.
local entry = head .. ',"seq":' .. seq .. ',"epoch":"' .. epoch .. '","id":"' .. epoch .. '-' .. seq .. '"' .. tail

local stream = notices
if kind == 'message' then
  stream = messages
  local over = redis.call('XLEN', messages) + 1 - limit
  if over > 0 then
    -- The messages about to fall out: a cursor before the newest of them cannot be resumed.
    local dropped = redis.call('XRANGE', messages, '-', '+', 'COUNT', over)
    local id = dropped[#dropped][1]
    redis.call('HSET', meta, 'lost', string.sub(id, 1, string.find(id, '-', 1, true) - 1))
  end
end
redis.call('XADD', stream, 'MAXLEN', limit, seq .. '-0', 'e', entry)

-- An idle room's keys go together; its next entry starts a new epoch.
for _, key in ipairs(KEYS) do
  redis.call('PEXPIRE', key, ttl)
end

local message = except .. '\n' .. entry
if whole ~= '' then
  message = message .. '\n' .. whole
end
redis.call('PUBLISH', channel, message)
return entry
