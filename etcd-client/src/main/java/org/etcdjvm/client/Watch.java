package org.etcdjvm.client;

import java.io.Closeable;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import org.etcdjvm.client.internal.Transport;
import org.etcdjvm.client.internal.WatchLoop;

/**
 * A continuous watch of a key prefix: it keeps long-polling {@code /v1/watch/<prefix>} until
 * {@link #close() closed}. Create one with {@link EtcdClient#watch(String)}.
 *
 * <h2>Guarantees</h2>
 * <ul>
 *   <li><b>Once, in order.</b> Every event is delivered once, in index order. After an event at
 *       index {@code i} the next long-poll asks for {@code index=i+1}, so writes that happen while
 *       no poll is outstanding are replayed from the server's history, never lost.
 *   <li><b>Survives nodes going away.</b> A connection failure, reset or 5xx moves the watch to the
 *       next endpoint, where it resumes from the same index. Retries are immediate for each
 *       endpoint, then back off from 50 ms to 2 s while none answers. The watch never gives up by
 *       itself; every failure is reported to {@link Builder#onError}.
 *   <li><b>No silent gaps.</b> If the server's history no longer reaches back to the index the
 *       watch needs (error 401, for example after a long disconnect), the watch re-reads the
 *       prefix, calls {@link Builder#onResync} with that snapshot, and continues from the
 *       snapshot's index + 1. Without an {@code onResync} callback, {@link Builder#onError}
 *       receives the {@link IndexClearedException} instead.
 *   <li><b>Idle is fine.</b> An empty 200 answer is re-polled. A long-poll that sees nothing for
 *       its {@linkplain Builder#timeout timeout} is quietly re-issued from the same index.
 * </ul>
 *
 * <h2>Starting point</h2>
 * With {@link Builder#fromIndex(long)} the watch delivers every event from that index on. Without
 * it, {@link Builder#start()} first reads the prefix (or, if it does not exist, the root) to learn
 * the store's current index, and watches from the next one: any write made after {@code start()}
 * returns is delivered. Only when the store is entirely empty does the first poll fall back to
 * "the next change" ({@code GET /v1/watch}).
 *
 * <h2>Threads</h2>
 * A watch has no thread of its own. Its long-poll runs on the client's watch dispatcher, which is
 * separate from the one normal calls use, so any number of watches never delays a {@code get}
 * (each in-flight long-poll does occupy one dispatcher thread while it waits: OkHttp's I/O is
 * blocking). Callbacks run one at a time per watch, on the {@linkplain Builder#callbackExecutor
 * callback executor} if one is set, else on the OkHttp thread that read the event; the next
 * long-poll is already sent when a callback runs. A callback that throws is reported to {@code
 * onError} and the watch goes on.
 *
 * <p>Thread-safe. {@link #close()} is idempotent; no new callback starts after it returns.
 */
public interface Watch extends Closeable {
  /** The normalised prefix being watched, such as {@code /foo-service}. */
  String prefix();

  /** The index the next long-poll asks for: one past the last event seen; 0 before the first. */
  long nextIndex();

  /** True once {@link #close()} was called on this watch or on its client. */
  boolean isClosed();

  /** Stops watching: cancels the outstanding long-poll and sends no further request. */
  @Override void close();

  /**
   * Configures and starts a {@link Watch}. Callbacks are optional individually, but at least one
   * of {@link #listener}, {@link #onSet}, {@link #onDelete}, {@link #onExpire} is required. Each
   * setter replaces the earlier value. For every event the {@link #listener} runs first, then the
   * callback for its type. Not thread-safe; {@link #start()} may be called more than once, each
   * time starting an independent watch.
   */
  final class Builder {
    private final Transport transport;
    private final String prefix;
    private final List<String> segments;
    private Consumer<WatchEvent> listener;
    private Consumer<WatchEvent> onSet;
    private Consumer<WatchEvent> onDelete;
    private Consumer<WatchEvent> onExpire;
    private Consumer<WatchResync> onResync;
    private Consumer<Throwable> onError;
    private long fromIndex;
    private boolean recursive = true;
    private Duration timeout;
    private Duration expiryTolerance = Duration.ofSeconds(1);
    private Executor callbackExecutor;

    Builder(Transport transport, String prefix, List<String> segments) {
      this.transport = transport;
      this.prefix = prefix;
      this.segments = segments;
    }

    /** Called for every event, whatever its type. */
    public Builder listener(Consumer<WatchEvent> listener) {
      this.listener = Objects.requireNonNull(listener, "listener == null");
      return this;
    }

    /** Called for each set (including compare-and-set and create). */
    public Builder onSet(Consumer<WatchEvent> onSet) {
      this.onSet = Objects.requireNonNull(onSet, "onSet == null");
      return this;
    }

    /** Called for each delete that is not an expiry. */
    public Builder onDelete(Consumer<WatchEvent> onDelete) {
      this.onDelete = Objects.requireNonNull(onDelete, "onDelete == null");
      return this;
    }

    /** Called for each expiry; see {@link WatchEvent.Type#EXPIRE} for how one is recognised. */
    public Builder onExpire(Consumer<WatchEvent> onExpire) {
      this.onExpire = Objects.requireNonNull(onExpire, "onExpire == null");
      return this;
    }

    /** Called when the server's history was cleared and the watch continued from a fresh snapshot. */
    public Builder onResync(Consumer<WatchResync> onResync) {
      this.onResync = Objects.requireNonNull(onResync, "onResync == null");
      return this;
    }

    /**
     * Called for each failure the watch recovers from (connection lost, 5xx, a failing callback),
     * for information: the watch keeps going. Without it, failures are logged to the {@code
     * org.etcdjvm.client} {@link System.Logger}.
     */
    public Builder onError(Consumer<Throwable> onError) {
      this.onError = Objects.requireNonNull(onError, "onError == null");
      return this;
    }

    /** Delivers every event from {@code index} on, replaying history the server still has. */
    public Builder fromIndex(long index) {
      if (index < 1) throw new IllegalArgumentException("fromIndex < 1: " + index);
      this.fromIndex = index;
      return this;
    }

    /**
     * True (the default, and etcd v1's behaviour) to receive changes to the prefix and every key
     * below it; false for changes to exactly the prefix key only.
     */
    public Builder recursive(boolean recursive) {
      this.recursive = recursive;
      return this;
    }

    /**
     * How long one long-poll may wait for an event before it is quietly re-issued from the same
     * index: the read timeout of the watch's own calls, independent of the client's read timeout.
     * Defaults to {@link EtcdClient.Builder#watchTimeout}. Must be positive.
     */
    public Builder timeout(Duration timeout) {
      Objects.requireNonNull(timeout, "timeout == null");
      if (timeout.isNegative() || timeout.isZero()) throw new IllegalArgumentException("timeout <= 0: " + timeout);
      this.timeout = timeout;
      return this;
    }

    /**
     * How far in the future a DELETE's {@code expiration} may lie and still count as an expiry
     * (clock skew between this client and the server). Default 1 s; zero or more.
     */
    public Builder expiryTolerance(Duration tolerance) {
      Objects.requireNonNull(tolerance, "tolerance == null");
      if (tolerance.isNegative()) throw new IllegalArgumentException("tolerance < 0: " + tolerance);
      this.expiryTolerance = tolerance;
      return this;
    }

    /** Runs this watch's callbacks on {@code executor}; defaults to the client's callback executor. */
    public Builder callbackExecutor(Executor executor) {
      this.callbackExecutor = Objects.requireNonNull(executor, "executor == null");
      return this;
    }

    /**
     * Starts the watch and returns once it knows its starting index (at once with {@link
     * #fromIndex}; otherwise after one read of the prefix). If no endpoint answers that read, it
     * returns anyway, reports the failure to {@link #onError} and keeps trying in the background.
     *
     * @throws IllegalStateException if no event callback is set, or the client is closed
     */
    public Watch start() {
      return startAsync().join();
    }

    /** As {@link #start()}, but never blocks: the future completes when {@code start()} would return. */
    public CompletableFuture<Watch> startAsync() {
      if (listener == null && onSet == null && onDelete == null && onExpire == null) {
        throw new IllegalStateException(
            "no event callback: set listener(...), onSet(...), onDelete(...) or onExpire(...) before start()");
      }
      if (transport.isClosed()) throw new IllegalStateException("EtcdClient is closed");
      WatchLoop loop = new WatchLoop(transport, prefix, segments, recursive, timeout, expiryTolerance,
          callbackExecutor, listener, onSet, onDelete, onExpire, onResync, onError);
      return loop.start(fromIndex);
    }
  }
}
