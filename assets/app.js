// Progressive enhancement only: the page works without this file.
// With it, CSS opens the form's steps in turn (class "js"); the address step is left with
// Enter or the "continue" button, and after the inline check the field's state and the
// keyboard focus follow what the check found.
document.documentElement.classList.add("js");

const nextStepClosed = () => !document.querySelector("#signup [data-email-ok]");

// Enter in the address field presses "continue" while it shows, instead of submitting a
// form whose later steps cannot be seen yet.
document.addEventListener("keydown", (event) => {
  const next = document.getElementById("email-next");
  const shown = next && next.offsetParent !== null;
  if (event.key !== "Enter" || event.target.id !== "email" || !shown) return;
  event.preventDefault();
  next.click();
});

document.addEventListener("htmx:afterSettle", (event) => {
  const source = event.detail.requestConfig && event.detail.requestConfig.elt;
  const email = document.getElementById("email");
  const status = document.getElementById("email-status");
  if (!email || !status || !source || (source !== email && source.id !== "email-next")) return;
  // The field refers to its error only while it is there (an id that is missing is invalid).
  if (status.querySelector(".field-error")) {
    email.setAttribute("aria-invalid", "true");
    email.setAttribute("aria-describedby", "email-hint email-error");
  } else {
    email.removeAttribute("aria-invalid");
    email.setAttribute("aria-describedby", "email-hint");
  }
  // The "continue" button hides once the address passes; the focus it had (or that Tab gave
  // it while the check ran) goes on into the step that opened.
  const lost = !document.activeElement || document.activeElement === document.body;
  const next = document.getElementById("consent_email");
  if (lost && next && !nextStepClosed()) next.focus();
});

// The copy button beside a username: copies the username (its text, without the break
// hints) and says so; where the clipboard is refused, selects it for the person to copy.
document.addEventListener("click", (event) => {
  const button = event.target.closest && event.target.closest(".copy-button");
  const code = button && button.parentElement.querySelector("code.username");
  if (!code) return;
  const selectIt = () => window.getSelection().selectAllChildren(code);
  const copied = () => { button.textContent = button.dataset.copied; };
  if (navigator.clipboard && navigator.clipboard.writeText) {
    navigator.clipboard.writeText(code.textContent).then(copied, selectIt);
  } else {
    selectIt();
  }
});

// A moment the server wrote in UTC (when a Temporary Access Pass stops working) shows in the
// reader's own time zone, in the page's language.
const showLocalTimes = (root) => {
  for (const time of root.querySelectorAll("time[data-local-time]")) {
    const moment = new Date(time.dateTime);
    if (Number.isNaN(moment.getTime())) continue;
    time.textContent = moment.toLocaleString(document.documentElement.lang || undefined, {
      year: "numeric", month: "long", day: "numeric",
      hour: "2-digit", minute: "2-digit", timeZoneName: "short",
    });
    time.removeAttribute("data-local-time");
  }
};
showLocalTimes(document);
document.addEventListener("htmx:afterSettle", (event) => showLocalTimes(event.target));
