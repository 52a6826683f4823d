// The watch page: one websocket, game and chat topics, resume with `since` after a drop.
// Every text from the server is set with textContent: chat is never rendered as HTML.
// Both topics are aligned (docs/protocol.md, "Aligned delivery"): the delay selector stands in for a
// player that is behind the live edge; scores, plays, key moments and chat follow its horizon.
// Reconnecting (docs/protocol.md, "Close codes"): full jitter (a random delay between 0 and a cap that
// doubles per failed attempt, at most 30 s), and never on the codes that say not to.
(function () {
  "use strict";
  const root = document.getElementById("watch");
  const gameId = Number(root.dataset.game);
  const signedIn = root.dataset.signedIn === "1";
  const topics = ["game:" + gameId, "chat:" + gameId];
  const seq = {};          // topic -> last applied seq
  let drainDelay = null;   // ms to wait before reconnecting, from a draining server's `reconnect`
  const resyncing = {};    // topic -> true while a resubscribe is in flight
  const PROTOCOL_VERSION = 2;  // 2: a `skipped` note may stand for a run of seqs (`data.count`)
  const BACKOFF_BASE = 500, BACKOFF_CAP = 30000;
  // Close codes after which reconnecting would not help: what the page says instead.
  const FINAL_CLOSES = {
    4029: "Disconnected: this page sent too many messages. Reload to reconnect.",
    4406: "This page is out of date. Reload it.",
  };
  let ws = null;
  let attempt = 0;             // failed connections in a row
  let heartbeatTimer = null;
  let pingTimer = null;
  let pongDue = null;          // when a ping is unanswered this long, the connection is dead
  let refCounter = 0;

  const $ = (id) => document.getElementById(id);
  const setText = (id, value) => { const el = $(id); if (el) el.textContent = value == null ? "" : String(value); };
  const notice = (text) => setText("notice", text);
  let delay = Number(($("delay") || {}).value || 0);  // seconds behind the live edge (the "player")
  let streamStart = null;  // the broadcast's first frame (ms), for key-moment offsets
  const horizon = () => new Date(Date.now() - delay * 1000).toISOString();

  function send(message) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
  }

  function subscribe(topic) {
    const message = { type: "subscribe", topic: topic, align: true, horizon: horizon() };
    if (topic in seq) message.since = seq[topic];
    send(message);
  }

  function reconnectDelay() {
    const cap = Math.min(BACKOFF_CAP, BACKOFF_BASE * 2 ** attempt);
    attempt += 1;
    return Math.random() * cap;  // full jitter: clients cut off together do not come back together
  }

  function keepalive(intervalSeconds) {
    clearInterval(pingTimer);
    pingTimer = setInterval(function () {
      send({ type: "ping", ref: "keepalive" });
      clearTimeout(pongDue);
      pongDue = setTimeout(function () { if (ws) ws.close(); }, intervalSeconds * 1000);
    }, intervalSeconds * 1000);
  }

  function connect() {
    const base = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/";
    ws = new WebSocket(base + "?v=" + PROTOCOL_VERSION);
    ws.onopen = function () {
      setText("conn", "live");
      topics.forEach(subscribe);
      if (signedIn) {
        heartbeat();
        heartbeatTimer = setInterval(heartbeat, 20000);
      }
    };
    ws.onmessage = function (e) {
      const message = JSON.parse(e.data);
      if (message.type === "batch") message.events.forEach(handle);
      else handle(message);
    };
    ws.onclose = function (e) {
      clearInterval(heartbeatTimer);
      clearInterval(pingTimer);
      clearTimeout(pongDue);
      setChatEnabled(false);
      Object.keys(resyncing).forEach((t) => delete resyncing[t]);
      if (e.code === 4401) {             // signed out elsewhere: this session's credential is gone
        setText("conn", "signed out");
        const link = document.createElement("a");
        link.href = root.dataset.signInUrl;
        link.textContent = "Sign in again";
        $("notice").replaceChildren(link);
        return;
      }
      if (FINAL_CLOSES[e.code]) {
        setText("conn", "disconnected");
        notice(FINAL_CLOSES[e.code]);
        return;
      }
      setText("conn", "reconnecting");  // a restart (1012), a slow reader (4008), a lost network...
      // A draining server (4012) said when to come back: the delays it hands out spread the sockets.
      const delay = drainDelay !== null ? drainDelay : reconnectDelay();
      drainDelay = null;
      setTimeout(connect, delay);
    };
  }

  function heartbeat() { send({ type: "heartbeat", game: gameId, device: "web", horizon: horizon() }); }

  function handle(message) {
    switch (message.type) {
      case "hello":
        attempt = 0;  // the server took us: the next drop starts the backoff over
        keepalive(message.ping_interval);
        break;
      case "pong":
        clearTimeout(pongDue);
        break;
      case "reconnect":                  // this server is going away: the close (4012) follows
        drainDelay = message.delay_ms;
        break;
      case "snapshot":
        seq[message.topic] = message.seq;
        delete resyncing[message.topic];
        applySnapshot(message.topic, message.data);
        break;
      case "event": {
        const last = seq[message.topic];
        if (last === undefined || message.seq <= last) return;      // not ready yet, or already applied
        // A `skipped` note stands for `count` seqs ending at its own (protocol 2); anything else for one.
        const first = message.name === "skipped" ? message.seq - (message.data.count || 1) + 1 : message.seq;
        if (first > last + 1) {                                      // a gap: resume from the database
          if (!resyncing[message.topic]) { resyncing[message.topic] = true; subscribe(message.topic); }
          return;
        }
        seq[message.topic] = message.seq;
        applyEvent(message.topic, message.name, message.data);
        break;
      }
      case "ack":
        if (message.topic && message.replayed !== undefined) delete resyncing[message.topic];
        if (message.message && message.ref && String(message.ref).startsWith("w")) $("chat-text").value = "";
        break;
      case "notice":
        if (message.name === "chat.muted" && message.data.game === gameId) {
          notice(new Date(message.data.until) > new Date() ? "A moderator muted you in this chat." : "You may chat again.");
        } else if (message.name === "session.ended") {
          notice("Your stream here was ended from another device.");
        }
        break;
      case "error":
        notice(message.code === "stream_limit" ? "Your plan's stream limit is reached on another device." : message.message);
        break;
    }
  }

  function applySnapshot(topic, data) {
    if (topic.startsWith("game:")) {
      renderGame(data.game);
      setText("viewers", data.viewers);
      const plays = $("plays");
      plays.replaceChildren();
      if ($("moments")) $("moments").replaceChildren();
      data.plays.slice().reverse().forEach(addPlay);
    } else {
      const chat = $("chat");
      chat.replaceChildren();
      data.messages.forEach(addChat);
      setChatEnabled(data.open);
    }
  }

  function applyEvent(topic, name, data) {
    if (name === "game.event") { renderGame(data.game); addPlay(data.play); }
    else if (name === "viewers") setText("viewers", data.count);
    else if (name === "chat.message") addChat(data);
    else if (name === "chat.deleted") {
      const item = document.querySelector('#chat li[data-id="' + Number(data.id) + '"]');
      if (item) item.remove();
    } else if (name === "chat.settings") setChatEnabled(data.open);
  }

  function renderGame(game) {
    setText("home-score", game.home_score == null ? "–" : game.home_score);
    setText("away-score", game.away_score == null ? "–" : game.away_score);
    setText("status", game.status);
    setText("period", game.period);
    setText("clock", game.clock);
  }

  function addPlay(play) {
    const li = document.createElement("li");
    li.textContent = [play.period, play.clock, play.description || (play.away_score + " - " + play.home_score)]
      .filter(Boolean).join(" · ");
    $("plays").prepend(li);
    if (play.key_moment) addMoment(play);
  }

  // The key-moment timeline: aligned plays marked key, at their offset into the stream.
  function addMoment(play) {
    const list = $("moments");
    if (!list || list.querySelector('li[data-id="' + Number(play.id) + '"]')) return;
    const li = document.createElement("li");
    li.dataset.id = play.id;
    let offset = "";
    if (streamStart !== null) {
      const seconds = Math.max(0, Math.round((Date.parse(play.occurred_at) - streamStart) / 1000));
      offset = Math.floor(seconds / 60) + ":" + String(seconds % 60).padStart(2, "0");
    }
    li.textContent = [offset, play.key_moment.replace("_", " "), play.description].filter(Boolean).join(" · ");
    list.append(li);
  }

  function addChat(message) {
    const li = document.createElement("li");
    li.dataset.id = message.id;
    const author = document.createElement("span");
    author.className = "author";
    author.textContent = message.user.name;
    const text = document.createElement("span");
    text.className = "text";
    text.textContent = message.text;
    li.append(author, text);
    const chat = $("chat");
    chat.append(li);
    while (chat.children.length > 200) chat.firstChild.remove();
    chat.scrollTop = chat.scrollHeight;
  }

  function setChatEnabled(open) {
    const input = $("chat-text");
    if (!input) return;
    input.disabled = !open;
    $("chat-send").disabled = !open;
    input.placeholder = open ? "Say something" : "Chat is closed";
  }

  const form = $("chat-form");
  if (form) {
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      const text = $("chat-text").value;
      if (!text.trim()) return;
      send({ type: "chat.send", game: gameId, text: text, ref: "w" + Date.now().toString(36) + "-" + (++refCounter) });
    });
  }

  // The delay selector: a new horizon; every aligned topic follows (nothing is sent twice on a rewind).
  const delaySelect = $("delay");
  if (delaySelect) {
    delaySelect.addEventListener("change", function () {
      delay = Number(delaySelect.value);
      send({ type: "align", horizon: horizon() });
    });
  }

  function csrf() {
    const match = document.cookie.match(/(?:^|; )csrftoken=([^;]*)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  // Spoiler-safe for this game (watching later) and reveal: the API, then a fresh start of both topics.
  function spoiler(state) {
    fetch("/api/v1/games/" + gameId + "/spoiler/", {
      method: "PUT",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
      body: JSON.stringify({ state: state }),
    }).then((r) => r.json()).then(function (answer) {
      if (answer.error) { notice(answer.error.message); return; }
      const box = $("spoiler-safe");
      if (box) box.checked = answer.score_hidden;
      topics.forEach(function (topic) { delete seq[topic]; subscribe(topic); });
    });
  }
  const spoilerBox = $("spoiler-safe");
  if (spoilerBox) spoilerBox.addEventListener("change", () => spoiler(spoilerBox.checked ? "watch_later" : "default"));
  const reveal = $("reveal");
  if (reveal) reveal.addEventListener("click", () => spoiler("revealed"));

  fetch("/api/v1/games/" + gameId + "/playback/", { credentials: "same-origin" })
    .then((r) => r.json())
    .then(function (playback) { if (playback.stream_started_at) streamStart = Date.parse(playback.stream_started_at); })
    .catch(function () {});

  connect();
})();
