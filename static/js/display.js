// display.js: the hall's calling screen (templates/booking/display.mustache) follows the
// centre's Server-Sent Events: each "display" event carries the whole state (the numbers
// called today, newest first, with masked names and counters, and how many wait), so the
// list is drawn again from it. EventSource reconnects by itself when the stream ends (the
// server ends streams after stream-max-age, and at a restart). Without EventSource the page
// reloads itself (a <noscript> refresh covers browsers without script).
(function () {
  'use strict';

  var main = document.querySelector('main.display');
  if (!main) return;
  var rows = document.getElementById('display-rows');
  var empty = document.getElementById('display-empty');
  var waiting = document.getElementById('display-waiting');
  if (!window.EventSource) {
    window.setTimeout(function () { window.location.reload(); }, 30000);
    return;
  }

  function cell(tr, text, cls) {
    var td = document.createElement('td');
    td.textContent = text == null ? '' : String(text);
    if (cls) td.className = cls;
    tr.appendChild(td);
  }

  function draw(state) {
    if (rows) {
      while (rows.firstChild) rows.removeChild(rows.firstChild);
      (state.called || []).forEach(function (c) {
        var tr = document.createElement('tr');
        if (c.current) tr.className = 'display-current';
        cell(tr, c.number, 'display-number');
        cell(tr, c.name);
        cell(tr, c.counter_name);
        rows.appendChild(tr);
      });
    }
    if (empty) empty.hidden = (state.called || []).length > 0;
    if (waiting) waiting.textContent = (main.getAttribute('data-waiting') || '{n}').replace('{n}', String(state.waiting));
    main.setAttribute('data-seq', String(state.seq));
  }

  var source = new EventSource(main.getAttribute('data-events'));
  source.addEventListener('display', function (e) {
    var state;
    try { state = JSON.parse(e.data); } catch (err) { return; }
    draw(state);
  });
  source.addEventListener('open', function () { main.setAttribute('data-live', '1'); });
  source.addEventListener('error', function () { main.removeAttribute('data-live'); });
}());
