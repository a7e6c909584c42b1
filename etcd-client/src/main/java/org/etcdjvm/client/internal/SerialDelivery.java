package org.etcdjvm.client.internal;

import java.lang.System.Logger.Level;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Runs one watch's callbacks one at a time, in the order they were added, on the given executor
 * (or on whichever thread calls {@link #flush()} when there is none). Adding and running are split
 * so a watch can queue an event, send its next long-poll, and only then run the listener.
 */
final class SerialDelivery {
  private final Executor executor;
  private final Queue<Runnable> queue = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean draining = new AtomicBoolean();

  /** @param executor null to run callbacks on the flushing thread */
  SerialDelivery(Executor executor) {
    this.executor = executor;
  }

  void add(Runnable task) {
    queue.add(task);
  }

  void flush() {
    if (queue.isEmpty() || draining.get()) return;
    if (executor == null) {
      drain();
      return;
    }
    try {
      executor.execute(this::drain);
    } catch (RejectedExecutionException e) {
      Transport.LOG.log(Level.WARNING, "callback executor rejected a watch callback; running it inline", e);
      drain();
    }
  }

  private void drain() {
    while (!queue.isEmpty() && draining.compareAndSet(false, true)) {
      try {
        Runnable task;
        while ((task = queue.poll()) != null) task.run();
      } finally {
        draining.set(false);
      }
    }
  }
}
