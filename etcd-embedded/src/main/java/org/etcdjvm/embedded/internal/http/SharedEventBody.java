package org.etcdjvm.embedded.internal.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import java.time.Instant;
import java.time.ZoneId;
import java.util.concurrent.atomic.AtomicInteger;
import org.etcdjvm.embedded.internal.store.Event;

/**
 * The JSON of one event, encoded once, for every watcher it wakes: each gets a duplicate of the same
 * direct buffer, so 2 000 watchers of a 500 KB write cost one 500 KB encoding and no copy (Netty
 * writes a direct buffer to the socket as it is; a heap buffer would be copied per connection).
 *
 * <p>Encoded lazily, by the first watcher's event loop to deliver it, so the thread applying the
 * write only hands the event on. Holders ({@link WatchFanOut} and each pending delivery) keep it;
 * the buffer goes back to the pool when the last holder lets go and the last response carrying it
 * has been written. Thread-safe.
 */
final class SharedEventBody {
  private final Event event;
  private final AtomicInteger holders;
  private ByteBuf encoded; // guarded by this

  /** With {@code holders} holds taken already. */
  SharedEventBody(Event event, int holders) {
    this.event = event;
    this.holders = new AtomicInteger(holders);
  }

  Event event() {
    return event;
  }

  /** About how many bytes the JSON takes (its value and previous value, plus the rest), without encoding it. */
  long sizeEstimate() {
    return 128L + length(event.value()) + length(event.prevValue()) + event.key().length();
  }

  private static int length(String s) {
    return s == null ? 0 : s.length();
  }

  /** Takes one more hold, unless the last one is gone already. */
  boolean tryHold() {
    while (true) {
      int n = holders.get();
      if (n == 0) {
        return false;
      }
      if (holders.compareAndSet(n, n + 1)) {
        return true;
      }
    }
  }

  /** Gives one hold back. */
  void unhold() {
    if (holders.decrementAndGet() == 0) {
      synchronized (this) {
        if (encoded != null) {
          encoded.release();
          encoded = null;
        }
      }
    }
  }

  /**
   * The JSON, as a buffer of its own (indexes and reference count) over the shared bytes; the
   * caller releases it (writing it does). Only while holding. The first call encodes, into a
   * direct buffer of {@code allocator}.
   */
  synchronized ByteBuf content(ByteBufAllocator allocator) {
    if (encoded == null) {
      CharSequence json = V1Json.eventText(event, Instant.now(), ZoneId.systemDefault());
      encoded = allocator.directBuffer(ByteBufUtil.utf8Bytes(json));
      ByteBufUtil.writeUtf8(encoded, json);
    }
    return encoded.retainedDuplicate();
  }
}
