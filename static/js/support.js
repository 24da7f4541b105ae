// Copy buttons for payment addresses: progressive enhancement only. Without JavaScript the
// buttons stay hidden and the address remains selectable text (CSS user-select: all).
(function () {
  "use strict";

  // Older browsers, or pages served over plain HTTP (no secure context), have no async
  // clipboard: select the address and ask for a copy the old way, leaving it selected.
  function copyBySelection(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    try {
      return document.execCommand("copy");
    } catch (error) {
      return false;
    }
  }

  function enable(button) {
    var target = document.getElementById(button.getAttribute("data-copy-target"));
    if (!target) {
      return;
    }
    var label = button.textContent;
    var status = button.parentNode.querySelector(".copy-status");
    var timer = null;

    function report(copied) {
      var text = copied ? button.getAttribute("data-copied-text") : button.getAttribute("data-failed-text");
      button.textContent = copied ? text : label;
      if (status) {
        status.textContent = text;
      }
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        button.textContent = label;
        if (status) {
          status.textContent = "";
        }
      }, 2500);
    }

    button.addEventListener("click", function () {
      // textContent joins the visual groups with nothing in between: the exact address.
      var address = target.textContent;
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(address).then(
          function () { report(true); },
          function () { report(copyBySelection(target)); }
        );
      } else {
        report(copyBySelection(target));
      }
    });
    button.hidden = false;
  }

  Array.prototype.forEach.call(document.querySelectorAll("button[data-copy-target]"), enable);
})();
