package org.etcdjvm.embedded.internal.http;

import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.time.Instant;
import java.time.ZoneId;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import org.etcdjvm.embedded.internal.http.LimitWarnings.Kind;
import org.etcdjvm.embedded.internal.raft.MemberInfo;
import org.etcdjvm.embedded.internal.raft.NotLeaderException;
import org.etcdjvm.embedded.internal.raft.Replica;
import org.etcdjvm.embedded.internal.store.DeleteOp;
import org.etcdjvm.embedded.internal.store.EtcdError;
import org.etcdjvm.embedded.internal.store.EtcdStore;
import org.etcdjvm.embedded.internal.store.Event;
import org.etcdjvm.embedded.internal.store.GetResult;
import org.etcdjvm.embedded.internal.store.KeyPath;
import org.etcdjvm.embedded.internal.store.SetOp;
import org.etcdjvm.embedded.internal.store.StoreException;
import org.etcdjvm.embedded.internal.store.WriteOp;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code /v1/keys/*}: GET reads the local replica; POST and PUT set (or test-and-set), DELETE
 * deletes, both through Raft on the leader and as a 307 to the leader elsewhere. Every other method
 * is 405. Thread-safe; each call runs on the request's event loop.
 */
final class KeysRoute {
  private static final Logger log = LoggerFactory.getLogger(KeysRoute.class);

  static final String ALLOW = "GET, POST, PUT, DELETE";

  /**
   * The longest TTL accepted: Go measured durations in int64 nanoseconds, so etcd 0.1.x could not
   * represent more (about 292 years). Longer is answered 202 like any other unusable TTL.
   */
  static final long MAX_TTL_SECONDS = Long.MAX_VALUE / 1_000_000_000L;

  static final String COMMIT_TIMEOUT = "timed out waiting for commit (outcome unknown)";

  private final Replica replica;
  private final StoreStats stats;
  private final int maxFormFields;
  private final int maxListingEntries;

  KeysRoute(Replica replica, StoreStats stats, HttpConfig config) {
    this.replica = replica;
    this.stats = stats;
    this.maxFormFields = config.maxFormFields();
    this.maxListingEntries = config.maxListingEntries();
  }

  void handle(Exchange exchange, FullHttpRequest request, String rawKey) {
    HttpMethod method = request.method();
    if (HttpMethod.GET.equals(method)) {
      if (consistent(exchange.rawQuery())) {
        consistentGet(exchange, rawKey);
      } else {
        get(exchange, rawKey);
      }
    } else if (HttpMethod.POST.equals(method) || HttpMethod.PUT.equals(method)) {
      set(exchange, request, rawKey);
    } else if (HttpMethod.DELETE.equals(method)) {
      delete(exchange, rawKey);
    } else {
      exchange.respondMethodNotAllowed(ALLOW);
    }
  }

  /** Whether the query asks for a consistent read: {@code consistent=true} (etcd 0.2's name). */
  static boolean consistent(String rawQuery) {
    if (rawQuery == null) {
      return false;
    }
    for (String pair : rawQuery.split("&", 64)) {
      if (pair.equals("consistent=true") || pair.equals("consistent=1")) {
        return true;
      }
    }
    return false;
  }

  /**
   * {@code GET ...?consistent=true}: answered only with state at least as new as every write
   * acknowledged before the read began. A follower redirects it to the leader (307, path and query
   * kept); the leader first confirms it still leads and has applied everything committed (Raft's
   * ReadIndex, {@link Replica#readBarrier}), then reads its replica. Without a leader: error 300.
   */
  private void consistentGet(Exchange exchange, String rawKey) {
    if (!replica.isLeader()) {
      exchange.respond(LeaderRedirect.to(replica.leader(), replica.name(), exchange.version(), exchange.rawPath(),
          exchange.rawQuery()));
      return;
    }
    replica.readBarrier().whenComplete((v, failure) -> exchange.execute(() -> {
      if (failure == null) {
        get(exchange, rawKey);
      } else if (unwrap(failure) instanceof NotLeaderException e) {
        exchange.respond(LeaderRedirect.to(e.leader(), replica.name(), exchange.version(), exchange.rawPath(),
            exchange.rawQuery()));
      } else {
        exchange.respondError(EtcdError.RAFT_INTERNAL, "could not confirm the leadership for a consistent read: "
            + unwrap(failure).getMessage());
      }
    }));
  }

  private void get(Exchange exchange, String rawKey) {
    EtcdStore store = replica.store();
    // Read first: the answer reflects at least this index (the store's index only grows).
    exchange.etcdIndex(store.index());
    String key;
    GetResult result;
    try {
      key = cleanKey(rawKey, store.limits().maxKeyBytes());
    } catch (StoreException e) {
      exchange.respondError(e.error(), e.cause());
      return;
    }
    try {
      result = store.get(key, maxListingEntries);
    } catch (StoreException e) {
      if (e.error() == EtcdError.INVALID_FIELD) { // the directory is too large to list
        exchange.admission().warnings().warn(Kind.LISTING_SIZE, exchange.channel().remoteAddress(),
            "400: " + e.cause() + " (maxListingEntries)");
      }
      exchange.respondError(e.error(), e.cause());
      return;
    }
    Instant now = replica.now();
    ZoneId zone = ZoneId.systemDefault();
    stats.countGet();
    if (!result.isDirectory()) {
      exchange.respondJson(V1Json.event(result.node(), now, zone));
      return;
    }
    byte[] small = ListingBody.renderSmall(result.children(), now, zone);
    if (small != null) {
      exchange.respondJson(small);
    } else {
      exchange.respondStreamed(HttpResponses.APPLICATION_JSON, ListingBody.of(result.children(), now, zone));
    }
  }

  /** The checks of v1-api.md §4.1, in its order, then our 209 validation, then the write. */
  private void set(Exchange exchange, FullHttpRequest request, String rawKey) {
    EtcdStore store = replica.store();
    FormFields form = FormFields.of(request, request.content(), exchange.rawQuery(), true, maxFormFields);
    if (form.tooManyFields()) {
      // The fields past the limit were never read: refuse rather than act on part of the form.
      exchange.admission().warnings().warn(Kind.FORM_FIELDS, exchange.channel().remoteAddress(),
          "400: more than " + maxFormFields + " form fields (maxFormFields)");
      exchange.respondError(EtcdError.INVALID_FIELD, tooManyFields(maxFormFields));
      return;
    }
    String key = null;
    StoreException badKey = null;
    try {
      key = cleanKey(rawKey, store.limits().maxKeyBytes());
    } catch (StoreException e) {
      badKey = e;
    }
    if (key != null && KeyPath.isReserved(key)) {
      exchange.respondError(EtcdError.KEYWORD, "Set");
      return;
    }
    String value = form.get("value");
    if (!form.isInvalid("value") && (value == null || value.isEmpty())) {
      exchange.respondError(EtcdError.VALUE_REQUIRED, "Set");
      return;
    }
    long ttl = 0;
    if (form.isInvalid("ttl")) {
      exchange.respondError(EtcdError.TTL_NAN, "Set");
      return;
    }
    String ttlText = form.get("ttl");
    if (ttlText != null && !ttlText.isEmpty()) {
      ttl = parseTtl(ttlText);
      if (ttl <= 0) {
        exchange.respondError(EtcdError.TTL_NAN, "Set");
        return;
      }
    }
    if (badKey != null) {
      exchange.respondError(badKey.error(), badKey.cause());
      return;
    }
    if (value == null) {
      exchange.respondError(EtcdError.INVALID_FIELD, invalidEncoding("value"));
      return;
    }
    int maxValueBytes = store.limits().maxValueBytes();
    if (utf8Length(value, maxValueBytes) > maxValueBytes) {
      exchange.respondError(EtcdError.INVALID_FIELD, "value: larger than " + maxValueBytes + " bytes");
      return;
    }
    String prevValue = null;
    if (form.has("prevValue")) {
      prevValue = form.get("prevValue");
      if (prevValue == null) {
        exchange.respondError(EtcdError.INVALID_FIELD, invalidEncoding("prevValue"));
        return;
      }
      // No stored value is longer, so the test could only fail; and the write must fit one
      // Raft entry (sized for a key plus two values at their limits).
      if (utf8Length(prevValue, maxValueBytes) > maxValueBytes) {
        exchange.respondError(EtcdError.INVALID_FIELD, "prevValue: larger than " + maxValueBytes + " bytes");
        return;
      }
    }
    Instant expiration = ttl == 0 ? null : replica.now().plusSeconds(ttl);
    write(exchange, new SetOp(key, value, prevValue, expiration, false));
  }

  private void delete(Exchange exchange, String rawKey) {
    String key;
    try {
      key = cleanKey(rawKey, replica.store().limits().maxKeyBytes());
    } catch (StoreException e) {
      exchange.respondError(e.error(), e.cause());
      return;
    }
    if (KeyPath.isReserved(key)) {
      exchange.respondError(EtcdError.KEYWORD, "Delete");
      return;
    }
    write(exchange, new DeleteOp(key, false));
  }

  private void write(Exchange exchange, WriteOp op) {
    if (!replica.isLeader()) {
      Optional<MemberInfo> leader = replica.leader();
      // A leader view naming this very member is stale: let Raft decide rather than redirect to self.
      if (leader.isEmpty() || !leader.get().name().equals(replica.name())) {
        exchange.respond(LeaderRedirect.to(leader, replica.name(), exchange.version(), exchange.rawPath(),
            exchange.rawQuery()));
        return;
      }
    }
    // The write queue is bounded here, before Raft: a refused write is not submitted at all.
    Admission admission = exchange.admission();
    Admission.Client client = exchange.client();
    String refusal = admission.startWrite(client, exchange.channel().remoteAddress());
    if (refusal != null) {
      exchange.respondError(HttpResponseStatus.SERVICE_UNAVAILABLE, EtcdError.RAFT_INTERNAL, refusal);
      return;
    }
    CompletableFuture<Event> result;
    try {
      result = replica.submit(op);
    } catch (RuntimeException e) {
      admission.endWrite(client);
      log.debug("submitting {} failed", op, e);
      exchange.respondError(EtcdError.RAFT_INTERNAL, "internal error");
      return;
    }
    result.whenComplete((event, failure) -> {
      admission.endWrite(client);
      exchange.execute(() -> written(exchange, op, event, failure));
    });
  }

  /** On the event loop: answers a write once Raft is done with it. */
  private void written(Exchange exchange, WriteOp op, Event event, Throwable failure) {
    if (failure == null) {
      if (op instanceof SetOp set) {
        stats.countSet(set.prevValue() != null);
      } else {
        stats.countDelete();
      }
      if (exchange.channel().isActive()) {
        exchange.etcdIndex(event.index());
        exchange.respondJson(V1Json.event(event, replica.now(), ZoneId.systemDefault()));
      }
      return;
    }
    Throwable cause = unwrap(failure);
    if (cause instanceof StoreException e) {
      exchange.respondError(e.error(), e.cause());
    } else if (cause instanceof NotLeaderException e) {
      exchange.respond(LeaderRedirect.to(e.leader(), replica.name(), exchange.version(), exchange.rawPath(),
          exchange.rawQuery()));
    } else if (cause instanceof org.etcdjvm.embedded.internal.raft.DiskFullException e) {
      exchange.respondError(HttpResponseStatus.INSUFFICIENT_STORAGE, EtcdError.RAFT_INTERNAL, e.getMessage());
    } else if (cause instanceof TimeoutException) {
      exchange.respondError(EtcdError.RAFT_INTERNAL, COMMIT_TIMEOUT);
    } else {
      log.debug("write {} failed", op, cause);
      exchange.respondError(EtcdError.RAFT_INTERNAL,
          cause instanceof CancellationException ? "write cancelled (outcome unknown)" : "internal error");
    }
  }

  static Throwable unwrap(Throwable failure) {
    Throwable t = failure;
    while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  /**
   * Percent-decodes the path after {@code /v1/keys} or {@code /v1/watch} and cleans it.
   *
   * @throws StoreException 209 when the bytes are not valid percent-encoded UTF-8 or the key is not
   *     acceptable to {@link KeyPath#clean}
   */
  static String cleanKey(String rawKey, int maxKeyBytes) throws StoreException {
    String decoded = UrlDecoding.decodePath(rawKey, 0, rawKey.length());
    if (decoded == null) {
      throw new StoreException(EtcdError.INVALID_FIELD, invalidEncoding("key"));
    }
    return KeyPath.clean(decoded, maxKeyBytes);
  }

  static String tooManyFields(int maxFormFields) {
    return "form: more than " + maxFormFields + " fields";
  }

  static String invalidEncoding(String field) {
    return field + ": not valid percent-encoded UTF-8";
  }

  /**
   * Go's {@code strconv.Atoi} on a 64-bit platform: an optional sign and ASCII digits, nothing else.
   *
   * @return the TTL in seconds, or -1 when the text is not such a number or exceeds
   *     {@link #MAX_TTL_SECONDS} (zero and negative numbers come back as they are: the caller rejects
   *     them too)
   */
  static long parseTtl(String text) {
    int start = text.charAt(0) == '+' || text.charAt(0) == '-' ? 1 : 0;
    if (start == text.length()) {
      return -1;
    }
    for (int i = start; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
    }
    try {
      long ttl = Long.parseLong(text);
      return ttl > MAX_TTL_SECONDS ? -1 : ttl;
    } catch (NumberFormatException overflow) {
      return -1;
    }
  }

  /** The UTF-8 length of {@code s}, or any number above {@code limit} once it is known to exceed it. */
  static long utf8Length(String s, int limit) {
    int chars = s.length();
    if ((long) chars * 3 <= limit) {
      return chars; // cannot exceed the limit; exact length not needed
    }
    long bytes = 0;
    for (int i = 0; i < chars; i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        bytes++;
      } else if (c < 0x800) {
        bytes += 2;
      } else if (Character.isHighSurrogate(c) && i + 1 < chars && Character.isLowSurrogate(s.charAt(i + 1))) {
        bytes += 4;
        i++;
      } else {
        bytes += 3;
      }
      if (bytes > limit) {
        return bytes;
      }
    }
    return bytes;
  }
}
