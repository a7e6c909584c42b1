package org.etcdjvm.embedded.internal.http;

import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.time.Instant;
import java.time.ZoneId;
import java.util.function.Consumer;
import org.etcdjvm.embedded.internal.raft.Replica;
import org.etcdjvm.embedded.internal.store.EtcdError;
import org.etcdjvm.embedded.internal.store.EtcdStore;
import org.etcdjvm.embedded.internal.store.Event;
import org.etcdjvm.embedded.internal.store.StoreException;
import org.etcdjvm.embedded.internal.store.WatchHub;

/**
 * {@code /v1/watch/*}: a one-shot long poll on the local replica's watch hub. GET waits for the next
 * change at or under the prefix; POST with {@code index=N} first replays history from N. No thread
 * waits: the hub calls back, the answer hops to the connection's event loop, and a client that hangs
 * up first cancels its watch. Thread-safe.
 */
final class WatchRoute {
  static final String ALLOW = "GET, POST";
  static final String INDEX_CAUSE = "Watch From Index";
  static final String TOO_MANY_WATCHERS = "too many watchers";

  private final Replica replica;
  private final int maxFormFields;

  WatchRoute(Replica replica, HttpConfig config) {
    this.replica = replica;
    this.maxFormFields = config.maxFormFields();
  }

  void handle(Exchange exchange, FullHttpRequest request, String rawPrefix) {
    HttpMethod method = request.method();
    long sinceIndex;
    if (HttpMethod.GET.equals(method)) {
      sinceIndex = 0; // etcd ignores ?index= on GET
    } else if (HttpMethod.POST.equals(method)) {
      FormFields form = FormFields.of(request, request.content(), exchange.rawQuery(), true, maxFormFields);
      if (form.tooManyFields()) {
        exchange.respondError(EtcdError.INVALID_FIELD, KeysRoute.tooManyFields(maxFormFields));
        return;
      }
      sinceIndex = parseIndex(form.get("index"));
      if (sinceIndex < 0) {
        exchange.respondError(EtcdError.INDEX_NAN, INDEX_CAUSE);
        return;
      }
    } else {
      exchange.respondMethodNotAllowed(ALLOW);
      return;
    }
    EtcdStore store = replica.store();
    String prefix;
    try {
      prefix = KeysRoute.cleanKey(rawPrefix, store.limits().maxKeyBytes());
    } catch (StoreException e) {
      exchange.respondError(e.error(), e.cause());
      return;
    }
    PendingWatch pending = new PendingWatch(exchange);
    WatchHub.Watch watch;
    try {
      watch = store.watches().watch(prefix, sinceIndex, pending);
    } catch (StoreException e) {
      if (e.error() == EtcdError.RAFT_INTERNAL) {
        // Registration only fails this way when the node is out of watcher slots: overload, not a bug.
        exchange.respondError(HttpResponseStatus.SERVICE_UNAVAILABLE, e.error(),
            e.cause() == null ? TOO_MANY_WATCHERS : e.cause());
      } else {
        exchange.respondError(e.error(), e.cause());
      }
      return;
    }
    pending.armCancel(watch);
  }

  /**
   * Go's {@code strconv.ParseUint(s, 10, 64)}: ASCII digits only, up to 2^64-1.
   *
   * @return the index, clamped to {@link Long#MAX_VALUE} (an index no store will reach, so the watch
   *     simply waits), or -1 when {@code text} is missing or not such a number
   */
  static long parseIndex(String text) {
    if (text == null || text.isEmpty()) {
      return -1;
    }
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
    }
    try {
      long index = Long.parseUnsignedLong(text);
      return index < 0 ? Long.MAX_VALUE : index;
    } catch (NumberFormatException overflow) {
      return -1;
    }
  }

  /**
   * The waiting side of one watch. The hub may call {@link #accept} synchronously inside
   * {@code watch()} (a history hit) or later from the Raft apply thread; either way the answer is
   * written on the event loop, where all other state of this class lives.
   */
  private static final class PendingWatch implements Consumer<Event>, ChannelFutureListener {
    private final Exchange exchange;
    private WatchHub.Watch watch;
    private boolean listening;

    PendingWatch(Exchange exchange) {
      this.exchange = exchange;
    }

    @Override
    public void accept(Event event) {
      exchange.execute(() -> deliver(event));
    }

    private void deliver(Event event) {
      if (exchange.isDone()) {
        return;
      }
      if (listening) {
        exchange.channel().closeFuture().removeListener(this);
        listening = false;
      }
      exchange.respondJson(V1Json.event(event, Instant.now(), ZoneId.systemDefault()));
    }

    /** After registration: a hang-up from now on cancels the watch, freeing its slot at once. */
    void armCancel(WatchHub.Watch watch) {
      if (exchange.isDone()) {
        return; // answered from history already; the hub keeps nothing for a fired watch
      }
      this.watch = watch;
      listening = true;
      exchange.channel().closeFuture().addListener(this); // runs at once if already closed
    }

    /** The connection closed before an event came. */
    @Override
    public void operationComplete(ChannelFuture closed) {
      listening = false;
      watch.cancel();
    }
  }
}
