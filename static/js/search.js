// search.js: suggestions as one types in a search box (progressive enhancement).
//
// Loaded by the layout on every page. Every <input data-suggest> inside a form becomes an
// ARIA combobox: after a short pause it asks GET /api/v1/search/suggest?q=... (same origin,
// no credentials needed) and shows up to eight services or bundles under the box; arrow keys
// move through them, Enter opens the one selected, Escape closes the list. Without script
// the form simply submits to /search, which works on its own. No inline script: the
// Content-Security-Policy allows script-src 'self' only.
(function () {
  'use strict';

  // Elder-friendly mode (长辈版) has no pop-ups: the search box is a plain one there.
  if (document.documentElement.classList.contains('elder')) return;

  var DELAY_MS = 150;
  var boxes = document.querySelectorAll('input[data-suggest]');
  var lang = (document.documentElement.getAttribute('lang') || 'zh').slice(0, 2) === 'en' ? 'en' : 'zh';

  function setup(input, n) {
    var form = input.form;
    if (!form) return;
    var list = document.createElement('ul');
    list.id = 'suggest-' + n;
    list.className = 'suggest-list';
    list.setAttribute('role', 'listbox');
    list.hidden = true;
    input.setAttribute('role', 'combobox');
    input.setAttribute('aria-autocomplete', 'list');
    input.setAttribute('aria-expanded', 'false');
    input.setAttribute('aria-controls', list.id);
    input.parentNode.insertBefore(list, input.nextSibling);
    form.classList.add('has-suggest');

    var timer = null, seq = 0, active = -1, items = [];

    function close() {
      list.hidden = true;
      input.setAttribute('aria-expanded', 'false');
      input.removeAttribute('aria-activedescendant');
      active = -1;
    }

    function select(i) {
      var opts = list.querySelectorAll('[role=option]');
      for (var k = 0; k < opts.length; k++) opts[k].setAttribute('aria-selected', k === i ? 'true' : 'false');
      active = i;
      if (i >= 0 && opts[i]) input.setAttribute('aria-activedescendant', opts[i].id);
      else input.removeAttribute('aria-activedescendant');
    }

    function render(sugg) {
      items = sugg;
      while (list.firstChild) list.removeChild(list.firstChild);
      if (!sugg.length) { close(); return; }
      for (var i = 0; i < sugg.length; i++) {
        var li = document.createElement('li');
        li.id = list.id + '-' + i;
        li.setAttribute('role', 'option');
        li.setAttribute('aria-selected', 'false');
        var a = document.createElement('a');
        a.href = sugg[i].href;
        a.textContent = sugg[i].label; // text, never HTML
        a.tabIndex = -1;
        li.appendChild(a);
        list.appendChild(li);
      }
      list.hidden = false;
      input.setAttribute('aria-expanded', 'true');
      active = -1;
    }

    function ask() {
      var q = input.value.trim();
      if (!q || q.length > 100) { close(); return; }
      var mine = ++seq;
      fetch('/api/v1/search/suggest?limit=8&lang=' + lang + '&q=' + encodeURIComponent(q), {
        headers: { 'Accept': 'application/json' }, credentials: 'omit'
      }).then(function (r) { return r.ok ? r.json() : { suggestions: [] }; })
        .then(function (j) { if (mine === seq) render(j.suggestions || []); })
        .catch(function () { close(); });
    }

    input.addEventListener('input', function () {
      clearTimeout(timer);
      timer = setTimeout(ask, DELAY_MS);
    });
    input.addEventListener('keydown', function (e) {
      if (list.hidden) return;
      if (e.key === 'ArrowDown') { e.preventDefault(); select(Math.min(active + 1, items.length - 1)); }
      else if (e.key === 'ArrowUp') { e.preventDefault(); select(Math.max(active - 1, -1)); }
      else if (e.key === 'Escape') { close(); }
      else if (e.key === 'Enter' && active >= 0 && items[active]) { e.preventDefault(); window.location.href = items[active].href; }
    });
    input.addEventListener('blur', function () { setTimeout(close, 200); });
  }

  for (var i = 0; i < boxes.length; i++) setup(boxes[i], i);
})();
