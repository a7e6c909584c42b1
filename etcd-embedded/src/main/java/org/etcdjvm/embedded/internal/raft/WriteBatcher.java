package org.etcdjvm.embedded.internal.raft;

import io.atomix.primitive.operation.PrimitiveOperation;
import io.atomix.primitive.session.SessionClient;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.etcdjvm.embedded.internal.store.Event;
import org.etcdjvm.embedded.internal.store.SetOp;
import org.etcdjvm.embedded.internal.store.StoreException;
import org.etcdjvm.embedded.internal.store.WriteCodec;
import org.etcdjvm.embedded.internal.store.WriteOp;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Group commit: concurrent writes are packed into one Raft command.
 *
 * <p>Each Raft session has at most one command in flight — Atomix parks every later command of a
 * session behind a late one for up to 5 s otherwise (atomix/atomix#1088). Writes that arrive while
 * every session is busy wait in the queue and leave together in the next command, so throughput
 * grows with load instead of collapsing. It can spread batches over several sessions, but one is
 * the default: on Atomix 3.1.12 two or more sessions writing at full speed still stalled for 5 s
 * now and then, while one session with batching reached ~30 000 writes/s in-process.
 *
 * <p>Thread-safe; never blocks the caller.
 */
final class WriteBatcher {
  private static final Logger log = LoggerFactory.getLogger(WriteBatcher.class);
  private record Pending(WriteOp op, CompletableFuture<Event> result) {}

  /** A command on its way; {@code finished} is set once, by its completion or by the watchdog. */
  private record InFlight(SessionClient session, long startNanos, AtomicBoolean finished) {
    InFlight(SessionClient session, long startNanos) {
      this(session, startNanos, new AtomicBoolean());
    }
  }

  private final java.util.Map<SessionClient, InFlight> inFlight = new java.util.concurrent.ConcurrentHashMap<>();

  private final Queue<Pending> queue = new ConcurrentLinkedQueue<>();
  private final Queue<SessionClient> idle = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean tickRequested = new AtomicBoolean();
  private final Supplier<CompletableFuture<SessionClient>> newSession;
  private final int maxOps;
  private final long maxBatchChars;
  private final long commitTimeoutMillis;
  private volatile boolean closed;

  /**
   * @param maxBatchChars a batch stops growing at this many UTF-16 chars of keys and values (a
   *     char is at most 3 UTF-8 bytes, so a third of the Raft entry limit always fits); a single
   *     write is always sent, whatever its size
   * @param newSession opens a replacement session when a command has been in flight for twice the
   *     commit timeout (its writes have long been reported as "outcome unknown"): under heavy load
   *     Atomix 3.1 was seen to park a session's command for minutes, and with one command in
   *     flight per session every later write would wait behind it. Null: never replace.
   */
  WriteBatcher(List<SessionClient> sessions, Supplier<CompletableFuture<SessionClient>> newSession, int maxOps,
      long maxBatchChars, long commitTimeoutMillis) {
    this.idle.addAll(sessions);
    this.newSession = newSession;
    this.maxOps = maxOps;
    this.maxBatchChars = maxBatchChars;
    this.commitTimeoutMillis = commitTimeoutMillis;
    if (newSession != null) {
      CompletableFuture.delayedExecutor(1, TimeUnit.SECONDS).execute(this::watchForStuckCommands);
    }
  }

  /** Queues one write; the future completes with its event or fails (see {@link Replica#submit}). */
  CompletableFuture<Event> submit(WriteOp op) {
    CompletableFuture<Event> result = new CompletableFuture<>();
    if (closed) {
      result.completeExceptionally(new IllegalStateException("node is closed"));
      return result;
    }
    queue.add(new Pending(op, result));
    drain();
    return result.orTimeout(commitTimeoutMillis, TimeUnit.MILLISECONDS);
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

  boolean hasCommandInFlight(int sessionCount) {
    return idle.size() < sessionCount;
  }

  void close() {
    closed = true;
    Pending p;
    while ((p = queue.poll()) != null) {
      p.result.completeExceptionally(new IllegalStateException("node is closed"));
    }
  }

  private void drain() {
    while (true) {
      if (queue.isEmpty() && !tickRequested.get()) {
        return;
      }
      SessionClient session = idle.poll();
      if (session == null) {
        return; // a completing command calls drain() again
      }
      List<Pending> batch = takeBatch();
      if (batch.isEmpty() && !tickRequested.getAndSet(false)) {
        idle.add(session);
        continue; // someone else took the work; re-check for work that raced in
      }
      tickRequested.set(false);
      send(session, batch);
    }
  }

  private List<Pending> takeBatch() {
    List<Pending> batch = new ArrayList<>(Math.min(maxOps, 64));
    long chars = 0;
    Pending p;
    while (batch.size() < maxOps && (p = queue.peek()) != null) {
      long size = sizeOf(p.op);
      if (!batch.isEmpty() && chars + size > maxBatchChars) {
        break;
      }
      if (queue.poll() == null) {
        break;
      }
      batch.add(p);
      chars += size;
    }
    return batch;
  }

  private static long sizeOf(WriteOp op) {
    long size = op.key().length() + 16;
    if (op instanceof SetOp set) {
      size += set.value() == null ? 0 : set.value().length();
      size += set.prevValue() == null ? 0 : set.prevValue().length();
    }
    return size;
  }

  private void send(SessionClient session, List<Pending> batch) {
    List<WriteOp> ops = new ArrayList<>(batch.size());
    for (Pending p : batch) {
      ops.add(p.op);
    }
    byte[] command = WriteCodec.encodeOps(ops);
    CompletableFuture<byte[]> sent;
    try {
      sent = session.execute(PrimitiveOperation.operation(EtcdStateMachine.APPLY, command));
    } catch (RuntimeException e) {
      sent = CompletableFuture.failedFuture(e);
    }
    InFlight tracked = new InFlight(session, System.nanoTime());
    inFlight.put(session, tracked);
    sent.whenComplete((bytes, error) -> {
      if (!tracked.finished.compareAndSet(false, true)) {
        return; // replaced long ago; its writes were reported as outcome unknown
      }
      inFlight.remove(session, tracked);
      idle.add(session);
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

  /** Runs every second while open: replaces the session of any command stuck for 2 x the commit timeout. */
  private void watchForStuckCommands() {
    if (closed) {
      return;
    }
    long now = System.nanoTime();
    for (InFlight command : inFlight.values()) {
      if (now - command.startNanos > TimeUnit.MILLISECONDS.toNanos(2 * commitTimeoutMillis)
          && command.finished.compareAndSet(false, true)) {
        inFlight.remove(command.session, command);
        log.warn("a Raft command has waited {} ms for its commit; continuing on a new session",
            TimeUnit.NANOSECONDS.toMillis(now - command.startNanos));
        command.session.close();
        openReplacement();
      }
    }
    CompletableFuture.delayedExecutor(1, TimeUnit.SECONDS).execute(this::watchForStuckCommands);
  }

  private void openReplacement() {
    newSession.get().whenComplete((session, error) -> {
      if (error != null) {
        log.debug("opening a replacement session failed; retrying", error);
        CompletableFuture.delayedExecutor(commitTimeoutMillis, TimeUnit.MILLISECONDS).execute(() -> {
          if (!closed) {
            openReplacement();
          }
        });
      } else if (closed) {
        session.close();
      } else {
        idle.add(session);
        drain();
      }
    });
  }

  private static void complete(List<Pending> batch, byte[] bytes) {
    List<Object> outcomes = WriteCodec.decodeOutcomes(bytes);
    for (int i = 0; i < batch.size(); i++) {
      Object outcome = outcomes.get(i);
      CompletableFuture<Event> result = batch.get(i).result;
      if (outcome instanceof Event event) {
        result.complete(event);
      } else {
        result.completeExceptionally((StoreException) outcome);
      }
    }
  }
}
