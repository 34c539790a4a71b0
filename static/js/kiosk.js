// kiosk.js: self-service kiosk behaviour, and the receipt's print button.
//
// Loaded by the layout on every page in kiosk mode (<body class="kiosk">, from the kiosk
// cookie that GET /kiosk sets) and by the receipt page in any mode. No inline script: the
// Content-Security-Policy allows script-src 'self' only.
//
// - Buttons marked data-print are shown (they start hidden, so a browser without script
//   shows no dead button) and print the page.
// - In kiosk mode only: after two minutes without a touch, key or scroll, the session ends:
//   the log-out form (in the page header when someone is logged in) is sent, and the kiosk
//   returns to its start page /kiosk. "Finish" forms (form.kiosk-logout) do the same at once.
(function () {
  'use strict';

  var IDLE_MS = 2 * 60 * 1000;
  var START = '/kiosk';

  var printButtons = document.querySelectorAll('[data-print]');
  for (var i = 0; i < printButtons.length; i++) {
    printButtons[i].hidden = false;
    printButtons[i].addEventListener('click', function () { window.print(); });
  }

  if (!document.body || !document.body.classList.contains('kiosk')) return;

  var leaving = false;

  // Sends a log-out form in the background, then shows the start page. If the request
  // cannot be made, the form is submitted the ordinary way (the session must end).
  function logoutVia(form) {
    if (leaving) return;
    leaving = true;
    if (!window.fetch || !window.FormData) {
      form.submit();
      return;
    }
    window.fetch(form.action, { method: 'POST', body: new FormData(form), credentials: 'same-origin' })
      .then(function () { window.location.assign(START); })
      .catch(function () { leaving = false; form.submit(); });
  }

  function expire() {
    var form = document.querySelector('form[action="/logout"]');
    if (form) {
      logoutVia(form);
    } else if (window.location.pathname !== START) {
      leaving = true;
      window.location.assign(START);
    } else {
      reset(); // already at the start, nobody logged in: nothing to end
    }
  }

  var timer = null;
  function reset() {
    if (leaving) return;
    if (timer !== null) window.clearTimeout(timer);
    timer = window.setTimeout(expire, IDLE_MS);
  }

  ['pointerdown', 'keydown', 'touchstart', 'wheel', 'scroll', 'input'].forEach(function (type) {
    document.addEventListener(type, reset, { capture: true, passive: true });
  });
  reset();

  var finish = document.querySelectorAll('form.kiosk-logout');
  for (var k = 0; k < finish.length; k++) {
    finish[k].addEventListener('submit', function (ev) {
      ev.preventDefault();
      logoutVia(ev.currentTarget);
    });
  }
})();
