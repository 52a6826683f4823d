// Editing together: tell the live gateway this item is open, and show who else has it open.
// The page's socket signs in with the Studio session; the `studio:<id>` topic's snapshot and its
// `editors` events list everyone with the item open (docs/protocol.md). Only the topic is read: its
// frames come in seq order, while a reply to studio.open may overtake a newer event.
(function () {
  "use strict";
  const box = document.getElementById("studio-editors");
  if (!box || !window.WebSocket) return;
  const content = Number(box.dataset.content);
  const me = Number(box.dataset.me);
  const topic = "studio:" + content;
  let ws = null;
  let timer = null;
  let retry = 1000;

  function show(editors) {
    const others = (editors || []).filter(function (e) { return e.id !== me; });
    box.textContent = others.length
      ? "Also open by " + others.map(function (e) { return e.name; }).join(", ") +
        ". Saving over their newer save is refused; you will see what they changed."
      : "";
    box.hidden = others.length === 0;
  }

  function send(message) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
  }

  function connect() {
    ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/");
    ws.onopen = function () {
      retry = 1000;
      send({ type: "subscribe", topic: topic });
      send({ type: "studio.open", content: content });
      timer = setInterval(function () {
        send({ type: "studio.open", content: content });
        send({ type: "subscribe", topic: topic }); // a resync: the snapshot again, whatever was missed
      }, 20000);
    };
    ws.onmessage = function (e) {
      const m = JSON.parse(e.data);
      if (m.type === "snapshot" && m.topic === topic) show(m.data.editors);
      else if (m.type === "event" && m.topic === topic && m.name === "editors") show(m.data.editors);
      else if (m.type === "batch" && m.events) m.events.forEach(function (ev) {
        if (ev.topic === topic && ev.name === "editors") show(ev.data.editors);
      });
    };
    ws.onclose = function () {
      clearInterval(timer);
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 30000);
    };
  }
  window.addEventListener("pagehide", function () { send({ type: "studio.close", content: content }); });
  connect();
})();
