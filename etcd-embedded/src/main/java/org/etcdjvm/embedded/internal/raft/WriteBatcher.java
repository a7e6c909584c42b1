package org.etcdjvm.embedded.internal.raft;

import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import org.etcdjvm.embedded.internal.store.Event;
import org.etcdjvm.embedded.internal.store.SetOp;
import org.etcdjvm.embedded.internal.store.Outcome;
import org.etcdjvm.embedded.internal.store.WriteCodec;
import org.etcdjvm.embedded.internal.store.WriteOp;

/**
 * Group commit: concurrent writes are packed into one Raft command, with one command in flight at
 * a time. Writes that arrive while a command is on its way wait and leave together in the next
 * one, so throughput grows with load instead of collapsing (one command in flight is also what
 * Atomix 3.1's sessions need: atomix/atomix#1088).
 *
 * <p>Fair between clients: each client's writes wait in a queue of their own (in the order
 * submitted), and a batch takes one write from each waiting client in turn. A client with one write
 * waiting sees it leave in the next command, however many writes another client has queued; with
 * only one FIFO queue, a light client's write waited behind every write a flooding client had
 * queued (up to its share of the write queue, 250 at the HTTP layer's defaults). A client's queue
 * exists while it has writes waiting.
 *
 * <p>Thread-safe and lock-free; never blocks the caller. Only the thread that won the right to send
 * (one command in flight) takes writes out of the queues.
 */
final class WriteBatcher {
  /** The client of writes submitted without one: the node's own writes and the in-process API's. */
  private static final Object NO_CLIENT = new Object();
  /** A lane's {@link Lane#count} once retired: no write may join it any more. */
  private static final int RETIRED = Integer.MIN_VALUE;

  private record Pending(WriteOp op, CompletableFuture<Event> result) {}

  /** One client's waiting writes. */
  private static final class Lane {
    final Object client;
    /** Only the sender polls; anyone adds. */
    final Queue<Pending> writes = new ConcurrentLinkedQueue<>();
    /**
     * Writes joining or waiting (counted before they are added, uncounted once taken); {@link
     * #RETIRED} (and anything negative) once the sender found it at 0 and removed the lane.
     */
    final AtomicInteger count = new AtomicInteger();
    /** Whether the lane is in {@link #ready}, or taken from it by the sender and not yet put back. */
    final AtomicBoolean scheduled = new AtomicBoolean();

    Lane(Object client) {
      this.client = client;
    }
  }

  private final ConcurrentHashMap<Object, Lane> lanes = new ConcurrentHashMap<>();
  /** Lanes with writes waiting, in turn; a lane may be here with none left (see {@link #takeBatch}). */
  private final Queue<Lane> ready = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean sending = new AtomicBoolean();
  private final AtomicBoolean tickRequested = new AtomicBoolean();
  private final Function<byte[], CompletableFuture<byte[]>> execute;
  private final LogClock clock;
  private final BooleanSupplier leader;
  private final int maxOps;
  private final long maxBatchChars;
  private final long commitTimeoutMillis;
  private volatile boolean closed;

  /**
   * @param execute       replicates one command, completing with the state machine's result
   * @param clock         the log's time, stamped on each command while {@code leader} says this
   *     member leads ({@link LogClock#UNSTAMPED} otherwise)
   * @param maxBatchChars a batch stops growing at this many UTF-16 chars of keys and values (a
   *     char is at most 3 UTF-8 bytes, so a third of the Raft entry limit always fits); a single
   *     write is always sent, whatever its size
   */
  WriteBatcher(Function<byte[], CompletableFuture<byte[]>> execute, LogClock clock,
      BooleanSupplier leader, int maxOps, long maxBatchChars, long commitTimeoutMillis) {
    this.execute = execute;
    this.clock = clock;
    this.leader = leader;
    this.maxOps = maxOps;
    this.maxBatchChars = maxBatchChars;
    this.commitTimeoutMillis = commitTimeoutMillis;
  }

  /** Queues one write of the node itself; see {@link #submit(WriteOp, Object)}. */
  CompletableFuture<Event> submit(WriteOp op) {
    return submit(op, null);
  }

  /**
   * Queues one write behind the writes {@code client} already has waiting; the future completes
   * with its event or fails (see {@link Replica#submit}). A write whose future is already done when
   * its turn comes (it timed out, or the batcher closed) is not sent.
   *
   * @param client who the write comes from, compared with {@code equals}; null for the node itself
   *     and the in-process API, which count as one client
   */
  CompletableFuture<Event> submit(WriteOp op, Object client) {
    CompletableFuture<Event> result = new CompletableFuture<>();
    if (closed) {
      result.completeExceptionally(closedException());
      return result;
    }
    Object key = client == null ? NO_CLIENT : client;
    Lane lane;
    while (true) {
      lane = lanes.get(key);
      if (lane == null) {
        lane = lanes.computeIfAbsent(key, Lane::new);
      }
      if (lane.count.getAndIncrement() >= 0) {
        break;
      }
      lanes.remove(key, lane); // the sender retired it, emptied, and may not have removed it yet
    }
    lane.writes.add(new Pending(op, result));
    if (lane.scheduled.compareAndSet(false, true)) {
      ready.add(lane);
    }
    result.orTimeout(commitTimeoutMillis, TimeUnit.MILLISECONDS);
    drain();
    return result;
  }

  /**
   * Asks for an empty command, which only advances the replicated clock so that due TTLs expire
   * on an otherwise idle cluster. Coalesces with any batch that is sent anyway.
   */
  void tick() {
    if (tickRequested.compareAndSet(false, true)) {
      drain();
    }
  }

  /** Fails every waiting write, and every write submitted from now on; a command in flight completes as it will. */
  void close() {
    closed = true;
    for (Lane lane : lanes.values()) {
      for (Pending p : lane.writes) {
        p.result.completeExceptionally(closedException()); // the sender drops them (their futures are done)
      }
    }
    drain();
  }

  private static IllegalStateException closedException() {
    return new IllegalStateException("node is closed");
  }

  private void drain() {
    while (!ready.isEmpty() || tickRequested.get()) {
      if (!sending.compareAndSet(false, true)) {
        return; // the command in flight calls drain() again when it completes
      }
      if (closed) {
        tickRequested.set(false);
        failWaiting();
        sending.set(false);
        continue; // re-check for writes that joined meanwhile
      }
      List<Pending> batch = takeBatch();
      if (batch.isEmpty() && !tickRequested.getAndSet(false)) {
        sending.set(false);
        continue; // someone else took the work; re-check for work that raced in
      }
      tickRequested.set(false);
      send(batch);
      return;
    }
  }

  /** Only while holding {@link #sending}: the next batch, one write from each waiting client in turn. */
  private List<Pending> takeBatch() {
    List<Pending> batch = new ArrayList<>(Math.min(maxOps, 64));
    long chars = 0;
    Lane lane;
    while (batch.size() < maxOps && (lane = ready.peek()) != null) {
      Pending p = lane.writes.peek();
      if (p != null && !p.result.isDone()) {
        long size = sizeOf(p.op);
        if (!batch.isEmpty() && chars + size > maxBatchChars) {
          break; // the lane keeps its turn for the next batch
        }
        batch.add(p);
        chars += size;
      }
      ready.poll(); // lane: only this thread polls
      if (p != null) {
        lane.writes.poll(); // p: only this thread polls
        lane.count.decrementAndGet();
      }
      if (!lane.writes.isEmpty()) {
        ready.add(lane); // its next write waits for the other clients' turns
      } else {
        idle(lane);
      }
    }
    return batch;
  }

  /** A lane the sender found empty: unscheduled, and retired unless a write is joining it. */
  private void idle(Lane lane) {
    lane.scheduled.set(false);
    if (!lane.writes.isEmpty()) {
      // A write joined after the emptiness check and saw the lane still scheduled.
      if (lane.scheduled.compareAndSet(false, true)) {
        ready.add(lane);
      }
    } else if (lane.count.compareAndSet(0, RETIRED)) {
      lanes.remove(lane.client, lane);
    }
  }

  /** Only while holding {@link #sending}, once closed. */
  private void failWaiting() {
    Lane lane;
    while ((lane = ready.poll()) != null) {
      Pending p;
      while ((p = lane.writes.poll()) != null) {
        lane.count.decrementAndGet();
        p.result.completeExceptionally(closedException());
      }
      idle(lane);
    }
  }

  private static long sizeOf(WriteOp op) {
    long size = op.key().length() + 16;
    if (op instanceof SetOp set) {
      size += set.value() == null ? 0 : set.value().length();
      size += set.prevValue() == null ? 0 : set.prevValue().length();
    }
    return size;
  }

  private void send(List<Pending> batch) {
    List<WriteOp> ops = new ArrayList<>(batch.size());
    for (Pending p : batch) {
      ops.add(p.op);
    }
    CompletableFuture<byte[]> sent;
    try {
      sent = execute.apply(WriteCodec.encodeCommand(leader.getAsBoolean() ? clock.stamp() : LogClock.UNSTAMPED, ops));
    } catch (RuntimeException e) {
      sent = CompletableFuture.failedFuture(e);
    }
    sent.whenComplete((bytes, error) -> {
      sending.set(false);
      if (error != null) {
        for (Pending p : batch) {
          p.result.completeExceptionally(error);
        }
      } else {
        complete(batch, bytes);
      }
      drain();
    });
  }

  private static void complete(List<Pending> batch, byte[] bytes) {
    List<Outcome> outcomes = WriteCodec.decodeOutcomes(bytes);
    for (int i = 0; i < batch.size(); i++) {
      CompletableFuture<Event> result = batch.get(i).result;
      if (outcomes.get(i) instanceof Outcome.Applied applied) {
        result.complete(applied.event());
      } else {
        result.completeExceptionally(((Outcome.Failed) outcomes.get(i)).error());
      }
    }
  }
}
