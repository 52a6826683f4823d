// HLS previews in the Studio: Safari plays .m3u8 natively; elsewhere hls.js (vendored) feeds the
// <video> through Media Source Extensions. Each player says how it plays in data-hls (native, hls.js,
// unsupported) and shows a fatal error next to it.
(function () {
  "use strict";
  function attach(video) {
    const src = video.dataset.hlsSrc;
    if (!src || video.dataset.hls) return;
    if (video.canPlayType("application/vnd.apple.mpegurl")) {
      video.src = src;
      video.dataset.hls = "native";
    } else if (window.Hls && window.Hls.isSupported()) {
      const hls = new window.Hls({ maxBufferLength: 10 });
      hls.on(window.Hls.Events.ERROR, function (_event, data) {
        if (!data.fatal) return;
        const note = document.createElement("p");
        note.className = "errornote hls-error";
        note.textContent = "The stream did not play: " + (data.details || data.type);
        video.after(note);
        hls.destroy();
      });
      hls.loadSource(src);
      hls.attachMedia(video);
      video.dataset.hls = "hls.js";
    } else {
      video.dataset.hls = "unsupported";
    }
  }
  function all() { document.querySelectorAll("video[data-hls-src]").forEach(attach); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", all);
  else all();
})();
