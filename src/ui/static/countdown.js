// Ticks the server-rendered countdowns of the SMS code page and enables "Send a new code" on time.
// The page works without it: the server shows the seconds left and checks every resend itself.
(function () {
  var started = Date.now();
  var clocks = document.querySelectorAll('[data-countdown]');
  var buttons = document.querySelectorAll('[data-enable-after]');
  buttons.forEach(function (button) {
    if (Number(button.getAttribute('data-enable-after')) > 0) button.disabled = true;
  });
  function tick() {
    var elapsed = Math.floor((Date.now() - started) / 1000);
    clocks.forEach(function (el) {
      var left = Number(el.getAttribute('data-countdown')) - elapsed;
      el.textContent = left > 0 ? el.getAttribute('data-template').replace('{s}', String(left)) : el.getAttribute('data-done');
    });
    buttons.forEach(function (button) {
      if (Number(button.getAttribute('data-enable-after')) - elapsed <= 0) button.disabled = false;
    });
  }
  tick();
  setInterval(tick, 1000);
})();
