package org.etcdjvm.embedded.internal.raft.atomix;

import io.atomix.primitive.operation.PrimitiveOperation;
import io.atomix.primitive.session.SessionClient;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Atomix session that carries this member's commands, one at a time (the caller keeps at most
 * one in flight: with several, Atomix 3.1 parks every later command of a session behind a late one
 * for up to 5 s, atomix/atomix#1088).
 *
 * <p>Under heavy load Atomix 3.1 was seen to park a session's command for minutes. A command in
 * flight for twice the commit timeout is therefore failed as "outcome unknown" (its caller gave up
 * long ago), the session is closed, and later commands go to a new one.
 *
 * <p>A command's result from Atomix is a reference to its log index; the outcome comes from this
 * member's own replica through {@link LocalOutcomes} (a result that is not a reference, from a
 * leader of an older version, is the outcome itself). The command stays in flight until then.
 *
 * <p>Thread-safe.
 */
final class CommandSession {
  private static final Logger log = LoggerFactory.getLogger(CommandSession.class);

  private record InFlight(SessionClient session, long startNanos, CompletableFuture<byte[]> result) {}

  private final Supplier<CompletableFuture<SessionClient>> open;
  private final LocalOutcomes outcomes;
  private final long stuckNanos;
  private volatile CompletableFuture<SessionClient> session;
  private volatile InFlight inFlight;
  private volatile boolean closed;

  CommandSession(Supplier<CompletableFuture<SessionClient>> open, LocalOutcomes outcomes, long commitTimeoutMillis,
      ScheduledExecutorService timer) {
    this.open = open;
    this.outcomes = outcomes;
    outcomes.ownedBy(this::carries);
    this.stuckNanos = TimeUnit.MILLISECONDS.toNanos(2 * commitTimeoutMillis);
    this.session = open.get();
    timer.scheduleWithFixedDelay(this::watchForStuckCommand, 1, 1, TimeUnit.SECONDS);
  }

  /** Completes once the first session is open. */
  CompletableFuture<Void> opened() {
    return session.thenApply(s -> null);
  }

  CompletableFuture<byte[]> execute(byte[] command) {
    if (closed) {
      return CompletableFuture.failedFuture(new IllegalStateException("node is closed"));
    }
    return session.thenCompose(s -> {
      CompletableFuture<byte[]> result = new CompletableFuture<>();
      InFlight tracked = new InFlight(s, System.nanoTime(), result);
      inFlight = tracked;
      CompletableFuture<byte[]> sent;
      try {
        sent = s.execute(PrimitiveOperation.operation(ServiceAdapter.APPLY, command))
            .thenCompose(r -> LocalOutcomes.isReference(r)
                ? outcomes.outcome(LocalOutcomes.index(r))
                : CompletableFuture.completedFuture(r));
      } catch (RuntimeException e) {
        sent = CompletableFuture.failedFuture(e);
      }
      sent.whenComplete((bytes, error) -> {
        if (inFlight == tracked) {
          inFlight = null;
        }
        if (error != null) {
          result.completeExceptionally(error);
        } else {
          result.complete(bytes);
        }
      });
      return result;
    });
  }

  /** Whether {@code sessionId} is this member's current session (Atomix may have recovered it under a new id). */
  private boolean carries(long sessionId) {
    CompletableFuture<SessionClient> s = session;
    return s != null && s.isDone() && !s.isCompletedExceptionally() && s.join().sessionId().id() == sessionId;
  }

  private void watchForStuckCommand() {
    InFlight command = inFlight;
    if (closed || command == null || System.nanoTime() - command.startNanos < stuckNanos) {
      return;
    }
    if (command.result.completeExceptionally(new TimeoutException("a Raft command waited "
        + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - command.startNanos) + " ms for its commit (outcome unknown)"))) {
      log.warn("a Raft command has waited {} ms for its commit; continuing on a new session",
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - command.startNanos));
      inFlight = null;
      command.session.close();
      session = openWithRetry();
    }
  }

  private CompletableFuture<SessionClient> openWithRetry() {
    return open.get().handle((s, error) -> {
      if (error == null) {
        return CompletableFuture.completedFuture(s);
      }
      if (closed) {
        return CompletableFuture.<SessionClient>failedFuture(error);
      }
      log.debug("opening a replacement session failed; retrying", error);
      return openWithRetry();
    }).thenCompose(f -> f);
  }

  void close() {
    closed = true;
    CompletableFuture<SessionClient> s = session;
    if (s != null && s.isDone() && !s.isCompletedExceptionally()) {
      s.join().close();
    }
  }
}
