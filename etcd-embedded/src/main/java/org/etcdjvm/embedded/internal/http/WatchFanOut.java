package org.etcdjvm.embedded.internal.http;

import io.netty.util.concurrent.EventExecutor;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.etcdjvm.embedded.internal.store.Event;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries events from the watch hub to the watchers' event loops, cheaply.
 *
 * <ul>
 *   <li>The thread applying a write (which the write's acknowledgement waits for) only queues each
 *       woken watcher on its event loop: no encoding, no I/O.
 *   <li>All watchers woken by one event share one {@link SharedEventBody}: the hub hands the same
 *       {@link Event} to all of them one after the other, so the most recent body is reused as long
 *       as the event is the same.
 *   <li>Each event loop delivers at most {@value #SLICE} watchers, or about {@value #SLICE_BYTES}
 *       bytes of answers, per task and then queues itself again behind whatever arrived meanwhile
 *       (the write's own answer, other clients' requests), so 10 000 watchers, or 2 000 watchers of a
 *       500 KB value, do not hold up an event loop for everyone else.
 * </ul>
 *
 * <p>The most recent body stays held until the next event, so at most one event's JSON is kept
 * after its watchers are answered. Thread-safe.
 */
final class WatchFanOut {
  private static final Logger log = LoggerFactory.getLogger(WatchFanOut.class);
  static final int SLICE = 64;
  static final long SLICE_BYTES = 1024 * 1024;

  /** Who receives a body, on its event loop; it may take {@link SharedEventBody#content()} while called. */
  interface Recipient {
    void receive(SharedEventBody body);
  }

  private final AtomicReference<SharedEventBody> latest = new AtomicReference<>();
  private final ConcurrentHashMap<EventExecutor, LoopQueue> loops = new ConcurrentHashMap<>();

  /** Delivers {@code event} to {@code recipient} on {@code loop}, soon. Any thread. */
  void deliver(EventExecutor loop, Recipient recipient, Event event) {
    SharedEventBody body = bodyFor(event);
    loops.computeIfAbsent(loop, LoopQueue::new).add(new Delivery(recipient, body));
  }

  /** The body of {@code event}, with one hold taken for the caller. */
  private SharedEventBody bodyFor(Event event) {
    SharedEventBody body = latest.get();
    if (body != null && body.event() == event && body.tryHold()) {
      return body;
    }
    SharedEventBody fresh = new SharedEventBody(event, 2); // one hold for `latest`, one for the caller
    SharedEventBody previous = latest.getAndSet(fresh);
    if (previous != null) {
      previous.unhold();
    }
    return fresh;
  }

  private record Delivery(Recipient recipient, SharedEventBody body) {}

  /** The deliveries waiting on one event loop. */
  private static final class LoopQueue implements Runnable {
    private final EventExecutor loop;
    private final Queue<Delivery> queue = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean scheduled = new AtomicBoolean();

    LoopQueue(EventExecutor loop) {
      this.loop = loop;
    }

    void add(Delivery delivery) {
      queue.add(delivery);
      if (scheduled.compareAndSet(false, true)) {
        submit();
      }
    }

    private void submit() {
      try {
        loop.execute(this);
      } catch (RejectedExecutionException shuttingDown) {
        // The server is closing and its connections with it.
        for (Delivery d; (d = queue.poll()) != null; ) {
          d.body.unhold();
        }
        scheduled.set(false);
      }
    }

    @Override
    public void run() {
      long bytes = 0;
      for (int i = 0; i < SLICE && bytes < SLICE_BYTES; i++) {
        Delivery d = queue.poll();
        if (d == null) {
          break;
        }
        bytes += d.body.sizeEstimate();
        try {
          d.recipient.receive(d.body);
        } catch (RuntimeException e) {
          log.debug("delivering a watch event failed", e);
        } finally {
          d.body.unhold();
        }
      }
      if (!queue.isEmpty()) {
        submit(); // behind what was queued meanwhile
        return;
      }
      scheduled.set(false);
      if (!queue.isEmpty() && scheduled.compareAndSet(false, true)) {
        submit(); // an add that saw us still scheduled
      }
    }
  }
}
