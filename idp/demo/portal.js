// The demo portal's side of the ciba-approval postMessage protocol (docs/embedding.md).
const idp = document.body.dataset.idp;
const frame = document.getElementById("approval");
const events = document.getElementById("events");
document.getElementById("portal-origin").textContent = location.origin;

function send(message) {
  // Always to the page's exact origin, never "*".
  frame.contentWindow.postMessage({ protocol: "ciba-approval", version: 1, ...message }, idp);
}

window.addEventListener("message", (event) => {
  // Only the approval frame, from the provider's origin, speaking the protocol.
  if (event.origin !== idp || event.source !== frame.contentWindow) return;
  const message = event.data;
  if (!message || message.protocol !== "ciba-approval" || message.version !== 1) return;
  if (message.type === "resize") {
    frame.style.height = `${message.height}px`;
  }
  const item = document.createElement("li");
  item.dataset.type = message.type;
  item.textContent = JSON.stringify(message);
  events.append(item);
});

document.getElementById("theme-portal").addEventListener("click", () =>
  send({
    type: "theme",
    properties: { accent: "#6b2d8f", "accent-text": "#ffffff", focus: "#6b2d8f", radius: "0.25rem" },
  }),
);
document.getElementById("theme-default").addEventListener("click", () =>
  send({ type: "theme", properties: { accent: "#0b57d0", "accent-text": "#ffffff", focus: "#0b57d0", radius: "0.5rem" } }),
);
document.getElementById("open-form").addEventListener("submit", (event) => {
  event.preventDefault();
  send({ type: "open", internalId: document.getElementById("open-id").value.trim() });
});
