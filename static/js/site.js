// site.js: small improvements of every page that work without it too (progressive
// enhancement), and the service worker that makes the hall an installable web app.
//
// Loaded by the layout on every page. No inline script: the Content-Security-Policy allows
// script-src 'self' only.
//
// - The menu (<details class="menu"> in the header) closes on Escape, giving the focus back
//   to its button, and when a click or the focus lands outside it. Without script it opens
//   and closes with its button, as any <details> does.
// - The service worker (/sw.js, scope /) is registered where the browser has them; it keeps
//   the shell and the public guides a visitor opened, for reading offline (see sw.js).
(function () {
  'use strict';

  var menu = document.querySelector('details.menu');
  if (menu) {
    var button = menu.querySelector('summary');
    var closeMenu = function (giveFocus) {
      if (!menu.open) return;
      menu.open = false;
      if (giveFocus && button) button.focus();
    };
    menu.addEventListener('keydown', function (ev) {
      if (ev.key === 'Escape' || ev.key === 'Esc') closeMenu(true);
    });
    // Only when the button is shown (phones): on wide screens the menu is the navigation bars.
    var buttonShown = function () { return button && button.offsetParent !== null; };
    document.addEventListener('click', function (ev) {
      if (buttonShown() && !menu.contains(ev.target)) closeMenu(false);
    });
    document.addEventListener('focusin', function (ev) {
      if (buttonShown() && !menu.contains(ev.target)) closeMenu(false);
    });
  }

  if ('serviceWorker' in navigator && window.isSecureContext) {
    window.addEventListener('load', function () {
      navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(function () {
        // No offline reading then; every page works as before.
      });
    });
  }
})();
