// The dashboard's stylesheet and its one small script, served from this origin so the
// Content-Security-Policy can allow scripts and styles from 'self' only (no inline code).

export const DASHBOARD_CSS = `
:root { --fg:#1d2330; --muted:#5d6678; --bg:#f5f6f8; --card:#fff; --line:#dde1e8; --accent:#2455c3;
  --pending:#8a6d00; --pending-bg:#fff4cc; --downloading:#1d5fa8; --downloading-bg:#dcebff;
  --stored:#1f7a3d; --stored-bg:#dcf5e4; --failed:#b3261e; --failed-bg:#fde1de; color-scheme: light; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:var(--fg); background:var(--bg); overflow-wrap:break-word; }
a { color:var(--accent); }
.top { display:flex; flex-wrap:wrap; gap:.5rem 1.5rem; align-items:center; justify-content:space-between; padding:.75rem 1.25rem; background:#1d2330; }
.top a, .top .link { color:#e8ecf4; text-decoration:none; }
.brand { font-weight:700; letter-spacing:.01em; }
.top nav { display:flex; flex-wrap:wrap; gap:1rem; align-items:center; }
.top nav a[aria-current=page] { border-bottom:2px solid #8fb0ff; }
main { max-width:1040px; margin:0 auto; padding:1.25rem; min-width:0; }
h1 { font-size:1.5rem; margin:.25rem 0 1rem; } h2 { font-size:1.1rem; margin:0 0 .75rem; }
section { margin-bottom:1.5rem; }
.card { background:var(--card); border:1px solid var(--line); border-radius:10px; padding:1rem 1.25rem; }
.narrow { max-width:420px; margin:3rem auto; }
.muted { color:var(--muted); } .small { font-size:.85rem; }
.mono { font-family:ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size:.9em; }
.wrap { overflow-wrap:anywhere; }
.inline { display:inline; margin:0; }
button, .button { font:inherit; border:0; border-radius:6px; padding:.5rem 1rem; background:var(--accent); color:#fff; cursor:pointer; text-decoration:none; display:inline-block; }
button.secondary { background:#e7ebf3; color:var(--fg); }
button.danger { background:var(--failed-bg); color:var(--failed); }
button.link { background:none; padding:0; }
input[type=text], input[type=password] { font:inherit; padding:.5rem .6rem; border:1px solid var(--line); border-radius:6px; width:100%; }
.stack { display:flex; flex-direction:column; gap:.6rem; }
.notice { padding:.6rem .9rem; border-radius:6px; }
.notice-ok { background:var(--stored-bg); color:var(--stored); } .notice-error { background:var(--failed-bg); color:var(--failed); }
.badge { display:inline-block; padding:.1rem .55rem; border-radius:999px; font-size:.8rem; font-weight:600; vertical-align:middle; }
.state-pending.badge, .count.state-pending .n { color:var(--pending); } .state-pending.badge { background:var(--pending-bg); }
.state-downloading.badge, .count.state-downloading .n { color:var(--downloading); } .state-downloading.badge { background:var(--downloading-bg); }
.state-stored.badge, .count.state-stored .n { color:var(--stored); } .state-stored.badge { background:var(--stored-bg); }
.state-failed.badge, .count.state-failed .n { color:var(--failed); } .state-failed.badge { background:var(--failed-bg); }
.counts { display:grid; grid-template-columns:repeat(4, 1fr); gap:.75rem; margin-bottom:.5rem; }
.count { background:var(--card); border:1px solid var(--line); border-radius:10px; padding:.9rem 1rem; text-decoration:none; color:var(--fg); display:flex; flex-direction:column; }
.count .n { font-size:2rem; font-weight:700; line-height:1.1; } .count .label { color:var(--muted); text-transform:capitalize; }
table.tasks { width:100%; border-collapse:collapse; background:var(--card); border:1px solid var(--line); border-radius:10px; overflow:hidden; }
table.tasks th, table.tasks td { text-align:left; padding:.55rem .75rem; border-bottom:1px solid var(--line); vertical-align:top; }
table.tasks th { font-size:.8rem; text-transform:uppercase; letter-spacing:.04em; color:var(--muted); background:#fafbfc; }
table.tasks tr:last-child td { border-bottom:0; }
table.tasks td:first-child { white-space:nowrap; }
time, button, .button { white-space:nowrap; }
.error-text { color:var(--failed); } .warn-text { color:var(--pending); }
.section-head { display:flex; flex-wrap:wrap; gap:.5rem 1rem; align-items:center; justify-content:space-between; margin-bottom:.5rem; }
.section-head h2, .section-head p { margin:0; }
.filter-count { display:inline-block; min-width:1.4em; padding:0 .35em; margin-left:.2em; border-radius:999px; background:var(--bg); color:var(--muted); font-size:.8rem; text-align:center; }
.filters a[aria-current=page] .filter-count { background:rgba(255,255,255,.25); color:#fff; }
.filters { display:flex; flex-wrap:wrap; gap:.5rem; margin-bottom:.5rem; }
.filters a { padding:.3rem .8rem; border:1px solid var(--line); border-radius:999px; background:var(--card); text-decoration:none; color:var(--fg); text-transform:capitalize; }
.filters a[aria-current=page] { background:var(--accent); border-color:var(--accent); color:#fff; }
.pager { display:flex; justify-content:space-between; }
.task-title { display:flex; flex-wrap:wrap; gap:.5rem; align-items:center; overflow-wrap:anywhere; }
.crumbs { margin:0; }
.player audio { width:100%; margin-bottom:.75rem; }
.actions { display:flex; flex-wrap:wrap; gap:.6rem; align-items:center; }
.actions form { margin:0; }
.copy { display:flex; gap:.4rem; flex:1 1 320px; min-width:0; }
dl.fields { display:grid; grid-template-columns:max-content 1fr; gap:.4rem 1.25rem; margin:0; }
dl.fields dt { color:var(--muted); } dl.fields dd { margin:0; min-width:0; }
.timeline { list-style:none; margin:0; padding:0 0 0 1rem; border-left:2px solid var(--line); }
.timeline li { position:relative; padding:.25rem 0 .6rem .5rem; min-width:0; }
.timeline li::before { content:""; position:absolute; left:-1.4rem; top:.65rem; width:.6rem; height:.6rem; border-radius:50%; background:var(--accent); }
.timeline li.tone-bad::before { background:var(--failed); } .timeline li.tone-good::before { background:var(--stored); }
.timeline time { color:var(--muted); font-size:.85rem; }
.event-text { overflow-wrap:anywhere; }
.findings { list-style:none; padding:0; margin:0; display:flex; flex-direction:column; gap:.5rem; }
.finding { display:flex; gap:.75rem; align-items:flex-start; background:var(--card); border:1px solid var(--line); border-radius:8px; padding:.7rem .9rem; }
.finding > div { min-width:0; overflow-wrap:anywhere; }
.effective { margin-top:1.5rem; }
.finding .badge { flex:0 0 3.2rem; text-align:center; }
.level-ok.badge { background:var(--stored-bg); color:var(--stored); } .level-warn.badge { background:var(--pending-bg); color:var(--pending); }
.level-problem.badge { background:var(--failed-bg); color:var(--failed); }
.fix { color:var(--muted); font-size:.9rem; margin-top:.2rem; }
.badge.kind { background:#eef1f7; color:#3a4358; }
.state-waiting.badge { color:var(--pending); background:var(--pending-bg); }
.media h3 { font-size:1rem; margin:0 0 .5rem; display:flex; flex-wrap:wrap; gap:.25rem .5rem; align-items:baseline; }
.media audio { width:100%; display:block; margin:.25rem 0 .5rem; }
.media video { width:100%; max-height:480px; display:block; background:#000; border-radius:6px; margin-bottom:.5rem; }
.track, .stem, .lyric { padding:.75rem 0; border-top:1px solid var(--line); min-width:0; }
.media h2 + .track, .media h2 + .lyric { border-top:0; padding-top:0; }
.track-body { display:grid; grid-template-columns:160px minmax(0, 1fr); gap:1rem; align-items:start; }
.track-main { min-width:0; }
.art { width:100%; aspect-ratio:1; object-fit:cover; border-radius:6px; border:1px solid var(--line); display:block; }
.art-missing { display:flex; align-items:center; justify-content:center; text-align:center; padding:.5rem; border:1px dashed var(--line); border-radius:6px; aspect-ratio:1; }
.stems { display:grid; grid-template-columns:repeat(auto-fill, minmax(260px, 1fr)); gap:1rem 1.25rem; }
.stems .stem { border-top:0; padding:0; }
.images { display:grid; grid-template-columns:repeat(auto-fill, minmax(200px, 1fr)); gap:1rem; }
.image { margin:0; min-width:0; }
.image img { width:100%; height:auto; display:block; border-radius:6px; border:1px solid var(--line); }
ul.files { list-style:none; margin:0; padding:0; }
.file { padding:.35rem 0; min-width:0; }
.file + .file { border-top:1px dashed var(--line); }
.file-head { display:flex; flex-wrap:wrap; gap:.25rem .6rem; align-items:center; }
.file-meta { color:var(--muted); overflow-wrap:anywhere; }
.roll { margin:0 0 .75rem; min-width:0; }
.piano-roll { display:block; width:100%; background:#fafbfc; border:1px solid var(--line); border-radius:6px; }
.roll-c { stroke:#c3cad6; stroke-width:1; } .roll-second { stroke:#e3e7ee; stroke-width:1; }
.roll figcaption { margin:.35rem 0; }
.legend { list-style:none; margin:0; padding:0; display:flex; flex-wrap:wrap; gap:.25rem 1rem; }
.legend li { display:flex; align-items:center; gap:.35rem; }
.swatch { flex:0 0 auto; }
.lyrics-text { white-space:pre-line; margin:0; line-height:1.6; }
.filters.kinds { margin-bottom:1rem; }
.filters.kinds a { font-size:.9rem; text-transform:none; }
.search { display:flex; gap:.4rem; flex:1 1 220px; max-width:420px; margin:0; min-width:0; }
.search input[type=search] { font:inherit; font-size:.9rem; padding:.35rem .6rem; border:1px solid #3a4358; border-radius:6px; background:#2a3142; color:#e8ecf4; width:100%; min-width:0; }
.search input[type=search]::placeholder { color:#aab3c5; }
.search button { padding:.35rem .8rem; font-size:.9rem; }
.search-page .search { max-width:none; margin-bottom:.5rem; }
.search-page .search input[type=search] { background:var(--card); color:var(--fg); border-color:var(--line); font-size:1rem; padding:.5rem .6rem; }
.search-page .search input[type=search]::placeholder { color:var(--muted); }
.search-page .search button { background:var(--accent); color:#fff; }
.waveform { margin:0 0 .75rem; }
.wave { display:block; width:100%; height:96px; background:#fafbfc; border:1px solid var(--line); border-radius:6px; cursor:pointer; }
.wave:focus { outline:none; } .wave:focus-visible { outline:2px solid var(--accent); outline-offset:2px; }
.wave-peaks { fill:#5b7fd6; } .wave-mid { stroke:#c3cad6; stroke-width:1; }
.wave-played { fill:#2455c3; fill-opacity:.16; } .wave-head { stroke:var(--accent); stroke-width:2; }
.waveform figcaption { margin:.35rem 0 0; }
.no-waveform { margin:0 0 .75rem; }
.charts { display:grid; grid-template-columns:repeat(2, minmax(0, 1fr)); gap:1rem; }
.chart { margin:0; background:var(--card); border:1px solid var(--line); border-radius:10px; padding:1rem 1.25rem; min-width:0; }
.chart.wide { grid-column:1 / -1; }
.chart h3 { font-size:1rem; margin:0 0 .2rem; } .chart figcaption p { margin:0 0 .5rem; }
.chart-scroll { overflow-x:auto; }
.chart-svg { display:block; width:100%; height:auto; }
.chart.wide .chart-svg { min-width:560px; }
.chart-svg .axis-text, .chart-svg .bar-value, .chart-svg .chart-empty { font:12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; fill:var(--muted); }
.chart-svg .bar-value { fill:var(--fg); font-weight:600; } .chart-svg .chart-empty { font-size:14px; }
.chart-svg.hbars { max-width:540px; } .chart-svg.hbars .axis-text { fill:var(--fg); }
.chart-svg .grid { stroke:#e3e7ee; stroke-width:1; } .chart-svg .tick { stroke:#c3cad6; stroke-width:1; } .chart-svg .axis-line { stroke:#9aa3b2; stroke-width:1; }
.bar-stored { fill:var(--stored); background:var(--stored); } .bar-failed { fill:var(--failed); background:var(--failed); }
.bar-retried { fill:#e09f3e; background:#e09f3e; }
.bar-p50 { fill:#2455c3; background:#2455c3; } .bar-p95 { fill:#8fb0ff; background:#8fb0ff; }
.hbar-track { fill:#f1f3f7; }
.chart-svg .bar:hover rect, .chart-svg .hbar:hover rect:not(.hbar-track) { opacity:.8; }
.chart-legend { list-style:none; margin:.4rem 0 0; padding:0; display:flex; flex-wrap:wrap; gap:.25rem 1rem; color:var(--muted); }
.chart-legend li { display:flex; align-items:center; gap:.35rem; }
.swatch-box { display:inline-block; width:12px; height:12px; border-radius:2px; }
.chart-none { margin:.5rem 0 0; }
@media (max-width: 600px) {
  .charts { grid-template-columns:1fr; }
  .search { flex-basis:100%; max-width:none; }
}
@media (max-width: 600px) {
  .track-body { grid-template-columns:1fr; }
  .track-body .art, .track-body .art-missing { max-width:220px; }
  main { padding:.75rem; }
  .counts { grid-template-columns:repeat(2, 1fr); }
  table.tasks, table.tasks tbody, table.tasks tr, table.tasks td { display:block; width:100%; }
  table.tasks thead { display:none; }
  table.tasks tr { border-bottom:1px solid var(--line); padding:.4rem 0; }
  table.tasks td { border:0; padding:.2rem .75rem; display:grid; grid-template-columns:5.5rem minmax(0, 1fr); gap:.5rem; align-items:baseline; justify-items:start; }
  table.tasks td:first-child { white-space:normal; overflow-wrap:anywhere; }
  table.tasks td::before { content:attr(data-label); color:var(--muted); font-size:.8rem; }
  dl.fields { grid-template-columns:1fr; gap:.1rem; } dl.fields dd { margin-bottom:.5rem; }
  .copy { flex-basis:100%; }
  .counts .count { min-width:0; }
}
/* The settings page's active sessions: a table, one card per session on a phone. */
table.session-list { width:100%; border-collapse:collapse; background:var(--card); border:1px solid var(--line); border-radius:10px; margin-bottom:.75rem; }
table.session-list th, table.session-list td { text-align:left; padding:.5rem .75rem; border-bottom:1px solid var(--line); vertical-align:top; }
table.session-list th { font-size:.8rem; text-transform:uppercase; letter-spacing:.04em; color:var(--muted); background:#fafbfc; }
table.session-list tr[data-current] td { background:#f5f8ff; }
@media (max-width: 600px) {
  table.session-list, table.session-list tbody, table.session-list tr, table.session-list td { display:block; width:100%; }
  table.session-list thead { display:none; }
  table.session-list td { border:0; padding:.2rem .75rem; overflow-wrap:anywhere; }
  table.session-list tr { border-bottom:1px solid var(--line); padding:.4rem 0; }
  table.session-list td[data-label]::before { content:attr(data-label) ": "; color:var(--muted); font-size:.8rem; }
}
`;

export const DASHBOARD_JS = `
"use strict";
// Copy-link buttons, confirmations, and reloading a page whose tasks are still under way (the
// page says so with <body data-refresh="<seconds>">). The pages work without this script.
document.addEventListener("click", function (ev) {
  var button = ev.target instanceof Element ? ev.target.closest("button[data-copy]") : null;
  if (!button) return;
  var input = document.getElementById(button.getAttribute("data-copy"));
  if (!input) return;
  var done = function () { button.textContent = "Copied"; setTimeout(function () { button.textContent = "Copy link"; }, 1500); };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(input.value).then(done, function () { input.select(); });
  } else {
    input.select();
    try { document.execCommand("copy"); done(); } catch (e) { /* selected for a manual copy */ }
  }
});
document.addEventListener("submit", function (ev) {
  var form = ev.target;
  var question = form instanceof HTMLFormElement ? form.getAttribute("data-confirm") : null;
  if (question && !window.confirm(question)) ev.preventDefault();
});
(function () {
  var seconds = Number(document.body.getAttribute("data-refresh"));
  if (!(seconds > 0)) return;
  // Not while someone types, plays something or looks at another tab: try again a little later.
  var busy = function () {
    var a = document.activeElement;
    if (a && /^(INPUT|TEXTAREA|SELECT)$/.test(a.tagName) && a.type !== "hidden") return true;
    var players = document.querySelectorAll("audio, video");
    for (var i = 0; i < players.length; i++) if (!players[i].paused) return true;
    return document.hidden;
  };
  var tick = function () {
    if (busy()) { setTimeout(tick, seconds * 1000); return; }
    var url = new URL(location.href);
    ["notice", "n", "left"].forEach(function (k) { url.searchParams.delete(k); });
    location.replace(url.toString());
  };
  setTimeout(tick, seconds * 1000);
})();
// Waveforms (README, "Waveforms"): the play position moves over each <svg data-waveform>, and a
// click (or an arrow key) seeks its player, the <audio> whose id is in data-player.
(function () {
  var waves = document.querySelectorAll("svg[data-waveform]");
  Array.prototype.forEach.call(waves, function (svg) {
    var audio = document.getElementById(svg.getAttribute("data-player"));
    if (!audio) return;
    var columns = Number(svg.getAttribute("data-columns"));
    var played = svg.querySelector(".wave-played");
    var head = svg.querySelector(".wave-head");
    var duration = function () {
      return isFinite(audio.duration) && audio.duration > 0 ? audio.duration : Number(svg.getAttribute("data-duration"));
    };
    var clock = function (s) {
      var m = Math.floor(s / 60), r = Math.floor(s - m * 60);
      return m + ":" + (r < 10 ? "0" : "") + r;
    };
    var draw = function () {
      var d = duration();
      var x = String(d > 0 ? Math.min(1, Math.max(0, audio.currentTime / d)) * columns : 0);
      played.setAttribute("width", x);
      head.setAttribute("x1", x);
      head.setAttribute("x2", x);
      svg.setAttribute("aria-valuenow", String(Math.round(audio.currentTime * 10) / 10));
      svg.setAttribute("aria-valuetext", clock(audio.currentTime));
    };
    var frame = 0;
    var loop = function () { draw(); frame = audio.paused ? 0 : requestAnimationFrame(loop); };
    ["timeupdate", "seeked", "loadedmetadata", "durationchange", "pause"].forEach(function (e) { audio.addEventListener(e, draw); });
    audio.addEventListener("play", function () { if (!frame) frame = requestAnimationFrame(loop); });
    var seek = function (s) {
      var d = duration();
      if (!(d > 0)) return;
      audio.currentTime = Math.min(d, Math.max(0, s));
      draw();
    };
    svg.addEventListener("click", function (ev) {
      var box = svg.getBoundingClientRect();
      if (box.width > 0) seek(((ev.clientX - box.left) / box.width) * duration());
    });
    svg.addEventListener("keydown", function (ev) {
      var to = ev.key === "ArrowRight" ? audio.currentTime + 5 : ev.key === "ArrowLeft" ? audio.currentTime - 5 : ev.key === "Home" ? 0 : ev.key === "End" ? duration() : null;
      if (to === null) return;
      ev.preventDefault();
      seek(to);
    });
    draw();
  });
})();
`;
