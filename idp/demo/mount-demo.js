// A same-origin host page using the mount entry point (docs/embedding.md).
import { mount } from "/ciba/mount.js";

const events = document.getElementById("events");
await mount(document.getElementById("approvals"), {
  onEvent(message) {
    const item = document.createElement("li");
    item.dataset.type = message.type;
    item.textContent = JSON.stringify(message);
    events.append(item);
  },
});
