package org.etcdjvm.embedded.internal.http;

import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.time.Instant;
import java.time.ZoneId;
import java.util.function.Consumer;
import org.etcdjvm.embedded.internal.http.LimitWarnings.Kind;
import org.etcdjvm.embedded.internal.raft.Replica;
import org.etcdjvm.embedded.internal.store.EtcdError;
import org.etcdjvm.embedded.internal.store.EtcdStore;
import org.etcdjvm.embedded.internal.store.Event;
import org.etcdjvm.embedded.internal.store.StoreException;
import org.etcdjvm.embedded.internal.store.WatchHub;

/**
 * {@code /v1/watch/*}: a one-shot long poll on the local replica's watch hub. GET waits for the next
 * change at or under the prefix; POST with {@code index=N} first replays history from N. No thread
 * waits: the hub calls back, {@link WatchFanOut} carries the event (encoded once for every watcher)
 * to the connection's event loop, and a client that hangs up first cancels its watch.
 *
 * <p>A waiting watch holds a slot of the node ({@link org.etcdjvm.embedded.internal.store.StoreLimits#maxWatchers()})
 * and one of its client address ({@link HttpConfig#maxWatchersPerAddress()}); past either the answer
 * is {@code 503} with error 300. It gives its request bytes back to the node's budget at once, since
 * it may wait for hours. Thread-safe.
 */
final class WatchRoute {
  static final String ALLOW = "GET, POST";
  static final String INDEX_CAUSE = "Watch From Index";
  static final String TOO_MANY_WATCHERS = "too many watchers";

  private final Replica replica;
  private final int maxFormFields;
  private final WatchFanOut fanOut = new WatchFanOut();

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
        exchange.admission().warnings().warn(Kind.FORM_FIELDS, exchange.channel().remoteAddress(),
            "400: more than " + maxFormFields + " form fields (maxFormFields)");
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
    exchange.waitingLong(); // everything needed is read; the wait may be long
    // Without a slot of its address, a watch may still be answered from history at once.
    PendingWatch pending = new PendingWatch(exchange, exchange.admission().acquireWatcher(exchange.client()));
    WatchHub.Watch watch;
    pending.registering = true;
    try {
      watch = store.watches().watch(prefix, sinceIndex, pending);
    } catch (StoreException e) {
      pending.done();
      if (e.error() == EtcdError.RAFT_INTERNAL) {
        // Registration only fails this way when the node is out of watcher slots: overload, not a bug.
        exchange.admission().warnings().warn(Kind.WATCHERS, exchange.channel().remoteAddress(),
            "watch refused (503): every watcher slot of the node is taken (maxWatchers)");
        exchange.respondError(HttpResponseStatus.SERVICE_UNAVAILABLE, e.error(),
            e.cause() == null ? TOO_MANY_WATCHERS : e.cause());
      } else {
        exchange.respondError(e.error(), e.cause());
      }
      return;
    } finally {
      pending.registering = false;
    }
    if (!pending.holdsSlot && !exchange.isDone()) {
      // Registered, but its address has no slot left. Should the event have come meanwhile, its
      // delivery finds this request answered and is dropped.
      watch.cancel();
      exchange.admission().watchRefused(exchange.channel().remoteAddress());
      exchange.respondError(HttpResponseStatus.SERVICE_UNAVAILABLE, EtcdError.RAFT_INTERNAL,
          Admission.ADDRESS_WATCHERS);
      return;
    }
    pending.armCancel(watch);
  }

  /**
   * Go's {@code strconv.ParseUint(s, 10, 64)}: ASCII digits only, up to 2^64-1.
   *
   * @return the index, clamped to {@link Long#MAX_VALUE} (an index no store will reach, so the watch
   *     simply waits, holding its slots, until the client hangs up), or -1 when {@code text} is
   *     missing or not such a number
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
   * {@code watch()} (a history hit, on the event loop) or later from the thread applying writes;
   * either way the answer is written on the event loop, where all other state of this class lives.
   */
  private final class PendingWatch implements Consumer<Event>, ChannelFutureListener, WatchFanOut.Recipient {
    private final Exchange exchange;
    private WatchHub.Watch watch;
    private boolean listening;
    /** Holds one of the address's watcher slots. */
    private boolean holdsSlot;
    /** True while {@code watch()} runs on the event loop: a callback then is a history hit. */
    private volatile boolean registering;

    PendingWatch(Exchange exchange, boolean holdsSlot) {
      this.exchange = exchange;
      this.holdsSlot = holdsSlot;
    }

    @Override
    public void accept(Event event) {
      if (registering && exchange.executor().inEventLoop()) {
        done();
        exchange.respondJson(V1Json.event(event, Instant.now(), ZoneId.systemDefault()));
      } else {
        fanOut.deliver(exchange.executor(), this, event);
      }
    }

    @Override
    public void receive(SharedEventBody body) {
      done();
      if (exchange.isDone() || !exchange.channel().isActive()) {
        return;
      }
      exchange.respondJson(body.content(exchange.channel().alloc()));
    }

    /** The watch fired, was refused or was cancelled: its slots are free again. On the event loop. */
    void done() {
      if (listening) {
        exchange.channel().closeFuture().removeListener(this);
        listening = false;
      }
      if (holdsSlot) {
        holdsSlot = false;
        exchange.admission().releaseWatcher(exchange.client());
      }
    }

    /** After registration: a hang-up from now on cancels the watch, freeing its slots at once. */
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
      done();
    }
  }
}
