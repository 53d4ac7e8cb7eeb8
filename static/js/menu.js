/* The header's menu is a <details> that works without this script: on wide screens CSS shows
   its content and hides its button. Opening it there as well keeps what browsers, assistive
   technology and browsers without ::details-content see in step with what is shown; on narrow
   screens it starts closed behind its button. */
(function () {
  "use strict";
  var menu = document.querySelector("details.nav-toggle");
  if (!menu || !window.matchMedia) return;
  var wide = window.matchMedia("(min-width: 48.0625rem)");
  function follow() { menu.open = wide.matches; }
  follow();
  if (wide.addEventListener) wide.addEventListener("change", follow);
})();
