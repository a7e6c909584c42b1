package org.etcdjvm.embedded.internal.store;

import java.util.Objects;

/** What one replicated write came to: its event, or the etcd error that refused it (the store unchanged). */
public sealed interface Outcome permits Outcome.Applied, Outcome.Failed {

  /** The write was applied. */
  record Applied(Event event) implements Outcome {
    public Applied {
      Objects.requireNonNull(event, "event");
    }
  }

  /** The write was refused with an etcd error; nothing changed. */
  record Failed(StoreException error) implements Outcome {
    public Failed {
      Objects.requireNonNull(error, "error");
    }
  }
}
