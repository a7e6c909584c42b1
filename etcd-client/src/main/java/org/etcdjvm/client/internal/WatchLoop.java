package org.etcdjvm.client.internal;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.FormBody;
import okhttp3.HttpUrl;
import okhttp3.Request;
import okhttp3.Response;
import org.etcdjvm.client.EtcdException;
import org.etcdjvm.client.EtcdResponse;
import org.etcdjvm.client.IndexClearedException;
import org.etcdjvm.client.KeyNotFoundException;
import org.etcdjvm.client.Watch;
import org.etcdjvm.client.WatchEvent;
import org.etcdjvm.client.WatchResync;

/**
 * The continuous watch behind {@link Watch}: a small state machine driven by OkHttp callbacks,
 * with no thread of its own.
 *
 * <pre>
 *   ANCHOR --snapshot index i--> POLL(i+1) --event e--> POLL(e.index+1) ...
 *                                  |  \--empty 200 / idle timeout--> POLL(same)
 *                                  |  \--IOException / 5xx--> next endpoint, POLL(same) (backoff once all failed)
 *                                  \--401 cleared--> RESYNC --snapshot i--> onResync, POLL(i+1)
 * </pre>
 *
 * At most one request is outstanding at any time, which is what keeps {@link #nextIndex} simple.
 */
public final class WatchLoop implements Watch {
  private static final long MIN_BACKOFF_MILLIS = 50;
  private static final long MAX_BACKOFF_MILLIS = 2_000;

  private enum Phase { ANCHOR, POLL, RESYNC }

  private final Transport transport;
  private final String prefix;
  private final List<String> segments;
  private final boolean recursive;
  private final LongPoll longPoll;
  private final Duration expiryTolerance;
  private final Consumer<WatchEvent> listener;
  private final Consumer<WatchEvent> onSet;
  private final Consumer<WatchEvent> onDelete;
  private final Consumer<WatchEvent> onExpire;
  private final Consumer<WatchResync> onResync;
  private final Consumer<Throwable> onError;
  private final SerialDelivery delivery;
  private final CompletableFuture<Watch> started = new CompletableFuture<>();

  /** Guards the fields below; only one request is outstanding, so contention is nil. */
  private final Object lock = new Object();
  private Phase phase;
  private long nextIndex;
  private IndexClearedException cleared;
  private int failureStreak;
  private int emptyStreak;

  private volatile boolean closed;
  private volatile Call call;
  private volatile CompletableFuture<?> pendingRead;

  public WatchLoop(Transport transport, String prefix, List<String> segments, boolean recursive,
      Duration timeout, Duration expiryTolerance, Executor callbackExecutor,
      Consumer<WatchEvent> listener, Consumer<WatchEvent> onSet, Consumer<WatchEvent> onDelete,
      Consumer<WatchEvent> onExpire, Consumer<WatchResync> onResync, Consumer<Throwable> onError) {
    this.transport = transport;
    this.prefix = prefix;
    this.segments = segments;
    this.recursive = recursive;
    this.longPoll = new LongPoll(timeout != null
        ? (int) Math.min(Integer.MAX_VALUE, timeout.toMillis())
        : transport.watchTimeoutMillis());
    this.expiryTolerance = expiryTolerance;
    this.listener = listener;
    this.onSet = onSet;
    this.onDelete = onDelete;
    this.onExpire = onExpire;
    this.onResync = onResync;
    this.onError = onError;
    this.delivery = new SerialDelivery(
        callbackExecutor != null ? callbackExecutor : transport.callbackExecutor());
  }

  /** Starts watching; the future completes once the starting index is known (or the first try failed). */
  public CompletableFuture<Watch> start(long fromIndex) {
    synchronized (lock) {
      if (fromIndex > 0) {
        nextIndex = fromIndex;
        phase = Phase.POLL;
        started.complete(this);
      } else {
        phase = Phase.ANCHOR;
      }
    }
    transport.register(this);
    step();
    return started;
  }

  @Override public String prefix() {
    return prefix;
  }

  @Override public long nextIndex() {
    synchronized (lock) {
      return nextIndex;
    }
  }

  @Override public boolean isClosed() {
    return closed;
  }

  @Override public void close() {
    if (closed) return;
    closed = true;
    Call c = call;
    if (c != null) c.cancel();
    CompletableFuture<?> read = pendingRead;
    if (read != null) read.cancel(true);
    transport.unregister(this);
    started.complete(this);
  }

  private void step() {
    if (closed) return;
    Phase current;
    synchronized (lock) {
      current = phase;
    }
    switch (current) {
      case POLL: poll(); break;
      case ANCHOR: readSnapshot(false); break;
      case RESYNC: readSnapshot(true); break;
      default: throw new AssertionError(current);
    }
  }

  private void poll() {
    HttpUrl base = transport.endpoints().forRead();
    long index;
    synchronized (lock) {
      index = nextIndex;
    }
    SentMarker marker = new SentMarker();
    Request.Builder request = new Request.Builder()
        .url(transport.url(base, "watch", segments))
        .tag(LongPoll.class, longPoll)
        .tag(SentMarker.class, marker);
    if (index > 0) {
      request.post(new FormBody.Builder().add("index", Long.toString(index)).build());
    }
    Call c = transport.watchClient().newCall(request.build());
    call = c;
    if (closed) {
      c.cancel();
      return;
    }
    c.enqueue(new PollCallback(base, marker));
  }

  private final class PollCallback implements Callback {
    private final HttpUrl base;
    private final SentMarker marker;

    PollCallback(HttpUrl base, SentMarker marker) {
      this.base = base;
      this.marker = marker;
    }

    @Override public void onResponse(Call c, Response response) {
      try (response) {
        if (closed) return;
        int code = response.code();
        if (code == 200) {
          if (EtcdJson.isEmpty(response)) {
            onEmpty();
          } else {
            onEvent(EtcdJson.readObject(response));
          }
          return;
        }
        EtcdException error = EtcdJson.readError(response);
        if (error instanceof IndexClearedException) {
          onCleared((IndexClearedException) error);
        } else if (code >= 500 || error == null) {
          String detail = error != null ? error.getMessage() : EtcdJson.bodySnippet(response);
          failed(new IOException("HTTP " + code + " from watch " + response.request().url() + ": " + detail), base);
        } else {
          failed(error, null); // etcd refused this poll (e.g. watcher cleared by recovery): retry here
        }
      } catch (IOException e) {
        failed(e, base);
      }
    }

    @Override public void onFailure(Call c, IOException e) {
      if (closed || c.isCanceled()) return;
      if (marker.sent && e instanceof InterruptedIOException) {
        // Connected, and no event within the poll timeout: ask again from the same index.
        synchronized (lock) {
          failureStreak = 0;
        }
        step();
        return;
      }
      failed(e, base);
    }
  }

  private void onEvent(EtcdResponse event) {
    Instant receivedAt = Instant.now();
    synchronized (lock) {
      failureStreak = 0;
      emptyStreak = 0;
      if (nextIndex > 0 && event.index() < nextIndex) {
        event = null; // already delivered (a server replaying history): deliver once
      } else {
        nextIndex = event.index() + 1;
      }
    }
    if (event != null && (recursive || event.key().equals(prefix))) {
      EtcdResponse e = event;
      delivery.add(() -> deliverEvent(e, receivedAt));
    }
    poll(); // the next long-poll is on its way before the listener runs
    delivery.flush();
  }

  private void onEmpty() {
    int empties;
    synchronized (lock) {
      failureStreak = 0;
      empties = ++emptyStreak;
    }
    // An empty 200 is normal once in a while; back off only if a server keeps doing it.
    schedule(empties <= 2 ? 0 : backoff(empties - 2));
  }

  private void onCleared(IndexClearedException error) {
    synchronized (lock) {
      cleared = error;
      phase = Phase.RESYNC;
    }
    step();
  }

  /** Reads the prefix (and, if that gives no index, the root) for the index to continue from. */
  private void readSnapshot(boolean resync) {
    CompletableFuture<Snapshot> read;
    try {
      read = snapshot();
    } catch (IllegalStateException clientClosed) {
      close();
      return;
    }
    pendingRead = read;
    read.whenComplete((snapshot, error) -> {
      if (closed) return;
      if (error != null) {
        started.complete(this);
        failed(unwrap(error), null); // the read already failed over across endpoints
        return;
      }
      if (resync) {
        resynced(snapshot);
      } else {
        synchronized (lock) {
          nextIndex = snapshot.index > 0 ? snapshot.index + 1 : 0;
          phase = Phase.POLL;
        }
        started.complete(this);
        poll();
      }
    });
  }

  private void resynced(Snapshot snapshot) {
    WatchResync resync;
    IndexClearedException error;
    synchronized (lock) {
      error = cleared;
      long oldest = error.oldestIndex();
      resync = new WatchResync(snapshot.entries, snapshot.index, nextIndex, oldest);
      nextIndex = snapshot.index > 0 ? snapshot.index + 1 : oldest;
      phase = Phase.POLL;
      failureStreak = 0;
    }
    delivery.add(() -> deliverResync(resync, error));
    poll();
    delivery.flush();
  }

  private CompletableFuture<Snapshot> snapshot() {
    CompletableFuture<List<EtcdResponse>> listing = transport
        .executeAsync(RequestSpec.read("keys", segments), EtcdJson::readList)
        .exceptionally(e -> {
          if (unwrap(e) instanceof KeyNotFoundException) return List.of();
          throw e instanceof CompletionException ? (CompletionException) e : new CompletionException(e);
        });
    return listing.thenCompose(entries -> {
      if (closed) return CompletableFuture.failedFuture(new java.util.concurrent.CancellationException("watch closed"));
      long index = maxIndex(entries);
      if (index > 0 || segments.isEmpty()) return CompletableFuture.completedFuture(new Snapshot(entries, index));
      // An empty or missing directory carries no index: the root listing has the store's index.
      return transport.executeAsync(RequestSpec.read("keys", List.of()), EtcdJson::readList)
          .thenApply(root -> new Snapshot(entries, maxIndex(root)));
    });
  }

  private static long maxIndex(List<EtcdResponse> entries) {
    long max = 0;
    for (EtcdResponse entry : entries) max = Math.max(max, entry.index());
    return max;
  }

  /**
   * Reports {@code error} and tries again: at once on the next endpoint while there are endpoints
   * left to try, then with exponential backoff.
   *
   * @param endpoint the endpoint that failed, to move away from; null to stay
   */
  private void failed(Throwable error, HttpUrl endpoint) {
    if (closed) return;
    int streak;
    synchronized (lock) {
      streak = ++failureStreak;
    }
    if (endpoint != null) transport.endpointFailed(endpoint);
    delivery.add(() -> deliverError(error));
    delivery.flush();
    int members = endpoint != null ? transport.endpoints().members().size() : 0;
    schedule(streak <= members ? 0 : backoff(streak - members));
  }

  private static long backoff(int attempt) {
    long delay = MIN_BACKOFF_MILLIS << Math.min(attempt - 1, 10);
    return Math.min(delay, MAX_BACKOFF_MILLIS);
  }

  private void schedule(long delayMillis) {
    if (closed) return;
    if (delayMillis == 0) {
      step();
    } else {
      // The JDK's shared delay scheduler (one daemon thread); step() itself only enqueues a call.
      CompletableFuture.delayedExecutor(delayMillis, TimeUnit.MILLISECONDS, Runnable::run).execute(this::step);
    }
  }

  private void deliverEvent(EtcdResponse response, Instant receivedAt) {
    if (closed) return;
    WatchEvent event = new WatchEvent(classify(response, receivedAt, expiryTolerance), response, receivedAt);
    if (listener != null) invoke(listener, event);
    Consumer<WatchEvent> typed;
    switch (event.type()) {
      case SET: typed = onSet; break;
      case DELETE: typed = onDelete; break;
      default: typed = onExpire; break;
    }
    if (typed != null) invoke(typed, event);
  }

  private void deliverResync(WatchResync resync, IndexClearedException error) {
    if (closed) return;
    if (onResync != null) {
      invoke(onResync, resync);
    } else {
      deliverError(error); // never a silent gap
    }
  }

  private void deliverError(Throwable error) {
    if (closed) return;
    if (onError == null) {
      Transport.LOG.log(error instanceof IOException ? Level.INFO : Level.WARNING,
          "watch " + prefix + ": " + error, error);
      return;
    }
    try {
      onError.accept(error);
    } catch (RuntimeException | Error e) {
      Transport.LOG.log(Level.WARNING, "watch " + prefix + ": onError callback threw", e);
    }
  }

  private <T> void invoke(Consumer<T> callback, T value) {
    try {
      callback.accept(value);
    } catch (RuntimeException | Error e) {
      deliverError(e);
    }
  }

  /** SET, DELETE or EXPIRE; see {@link WatchEvent.Type#EXPIRE} for the rule. */
  static WatchEvent.Type classify(EtcdResponse response, Instant receivedAt, Duration tolerance) {
    String action = response.action();
    if (action.equalsIgnoreCase("DELETE") || action.equalsIgnoreCase("compareAndDelete")) {
      Instant expiration = response.expiration();
      return expiration != null && !expiration.isAfter(receivedAt.plus(tolerance))
          ? WatchEvent.Type.EXPIRE
          : WatchEvent.Type.DELETE;
    }
    if (action.equalsIgnoreCase("EXPIRE")) return WatchEvent.Type.EXPIRE;
    return WatchEvent.Type.SET;
  }

  private static Throwable unwrap(Throwable e) {
    while (e instanceof CompletionException && e.getCause() != null) e = e.getCause();
    return e;
  }

  private static final class Snapshot {
    final List<EtcdResponse> entries;
    final long index;

    Snapshot(List<EtcdResponse> entries, long index) {
      this.entries = entries;
      this.index = index;
    }
  }

  @Override public String toString() {
    return "Watch{" + prefix + ", nextIndex=" + nextIndex() + (closed ? ", closed" : "") + "}";
  }
}
