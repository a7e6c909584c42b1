package org.etcdjvm.client.internal;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.ProtocolException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import okhttp3.Call;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.etcdjvm.client.EtcdException;
import org.etcdjvm.client.WriteOutcomeUnknownException;

/**
 * The state of one logical request across its HTTP attempts: which endpoint it is on, the redirect
 * chain it followed, which endpoints failed. Both the blocking and the async driver in {@link
 * Transport} feed it responses and failures; it answers with the next {@link Request} to send, or
 * {@code null} when {@link #result()} is ready, or throws the final error.
 *
 * <p>Rules: redirects (307 and friends) are followed with the same method and body, at most {@value
 * #MAX_REDIRECTS} hops, and a write's redirect target becomes the remembered leader. Connection
 * failures and 5xx move to the next endpoint, once each, for reads; for writes only when the
 * request provably never left (see {@link SentMarker}), otherwise the write fails with {@link
 * WriteOutcomeUnknownException}. Not thread-safe: one attempt at a time.
 */
final class Exchange<T> {
  static final int MAX_REDIRECTS = 3;

  private final Transport transport;
  private final RequestSpec spec;
  private final ResponseReader<T> reader;
  private final long deadlineNanos;
  private Set<HttpUrl> failed = Set.of(); // allocated on the first failure
  private List<HttpUrl> redirectChain;
  private HttpUrl base;
  private SentMarker marker;
  private IOException failures;
  private EtcdException serverError;
  private T result;
  /** A read already sent again to the leader because the first replica was behind this client's writes. */
  private boolean rereadOnLeader;

  Exchange(Transport transport, RequestSpec spec, ResponseReader<T> reader) {
    this.transport = transport;
    this.spec = spec;
    this.reader = reader;
    this.deadlineNanos = spec.timeoutNanos == 0 ? 0 : System.nanoTime() + spec.timeoutNanos;
  }

  Request first() {
    Endpoints endpoints = transport.endpoints();
    base = spec.write ? endpoints.forWrite() : endpoints.forRead();
    return requestOn(base);
  }

  T result() {
    return result;
  }

  Call newCall(Request request) throws IOException {
    OkHttpClient client = spec.write ? transport.writeClient() : transport.readClient();
    Call call = client.newCall(request);
    if (deadlineNanos != 0) {
      long remaining = deadlineNanos - System.nanoTime();
      if (remaining <= 0) throw timedOut();
      call.timeout().timeout(remaining, TimeUnit.NANOSECONDS);
    }
    return call;
  }

  /** The HTTP call failed without a response. */
  Request onFailure(Call call, IOException e) throws IOException {
    if (call.isCanceled() || transport.isClosed()) throw e;
    if (deadlineNanos != 0 && deadlineNanos - System.nanoTime() <= 0) throw timedOut(e);
    if (spec.write && marker != null && marker.sent) {
      transport.endpointFailed(base);
      throw new WriteOutcomeUnknownException(spec.method, call.request().url().toString(), e.toString(), e);
    }
    return failover(e);
  }

  /** The HTTP call got a response; the caller closes it. */
  Request onResponse(Response response) throws IOException, EtcdException {
    int code = response.code();
    if (!spec.write && (code < 300 || code == 400)) {
      Request again = rereadIfBehind(response);
      if (again != null) return again;
    }
    if (code >= 200 && code < 300) {
      try {
        result = reader.read(response);
        if (spec.write) {
          long index = EtcdJson.indexHeader(response);
          if (index < 0 && result instanceof org.etcdjvm.client.EtcdResponse r) index = r.index();
          if (index > 0) transport.acknowledged(index);
        }
        return null;
      } catch (IOException e) {
        if (spec.write) throw e; // status 2xx: the write was applied, only its body was lost
        return failover(e);
      }
    }
    if (code == 301 || code == 302 || code == 307 || code == 308) return redirect(response);

    EtcdException error = EtcdJson.readError(response);
    String where = spec.method + " " + response.request().url();
    if (code >= 500 && !spec.write) {
      if (error != null) serverError = error;
      String detail = error != null ? error.getMessage() : EtcdJson.bodySnippet(response);
      try {
        return failover(new IOException("HTTP " + code + " from " + where + ": " + detail));
      } catch (IOException allFailed) {
        if (serverError != null) throw serverError;
        throw allFailed;
      }
    }
    if (spec.write && code == 503) {
      // Refused before anything was proposed (a node still starting, a full write queue): the
      // write was not applied, so it may go to the next endpoint like a refused connection.
      String detail = error != null ? error.getMessage() : EtcdJson.bodySnippet(response);
      if (error != null) serverError = error;
      try {
        return failover(new IOException("HTTP 503 from " + where + ": " + detail));
      } catch (IOException allFailed) {
        if (serverError != null) throw serverError;
        throw allFailed;
      }
    }
    if (error != null) {
      if (spec.write && code >= 500 && code != 507 && !isNoLeader(error)) {
        // e.g. "timed out waiting for commit (outcome unknown)": the write may still be applied.
        throw new WriteOutcomeUnknownException(spec.method, response.request().url().toString(),
            error.getMessage(), error);
      }
      throw error;
    }
    String body = EtcdJson.bodySnippet(response);
    if (code >= 500) {
      throw new WriteOutcomeUnknownException(spec.method, response.request().url().toString(),
          "HTTP " + code + (body.isEmpty() ? "" : ": " + body), null);
    }
    throw new ProtocolException("Unexpected HTTP " + code + " " + response.message() + " from "
        + where + (body.isEmpty() ? "" : ": " + body));
  }

  /**
   * Read-your-writes: a read (or a "not found") answered by a member other than the one that took
   * this client's writes, whose replica has not yet applied the last of them (its
   * {@code X-Etcd-Index} is lower, or it does not say), is asked again of the leader, once. The
   * leader acknowledged the write after applying it, so its answer is fresh enough.
   */
  private Request rereadIfBehind(Response response) {
    long floor = transport.readFloor();
    if (floor == 0 || rereadOnLeader) return null;
    HttpUrl leader = transport.endpoints().forWrite();
    if (leader == null || leader.equals(base)) return null;
    if (EtcdJson.indexHeader(response) >= floor) return null;
    rereadOnLeader = true;
    base = leader;
    redirectChain = null;
    return requestOn(leader);
  }

  /**
   * Error 300 with cause "no leader" (or, as etcd 0.1 sent it, no cause): the node refused the
   * write before proposing it, so it was certainly not applied.
   */
  private static boolean isNoLeader(EtcdException error) {
    String cause = error.cause();
    return error.errorCode() == EtcdException.RAFT_INTERNAL
        && (cause == null || cause.toLowerCase(java.util.Locale.ROOT).contains("no leader"));
  }

  private Request redirect(Response response) throws IOException {
    HttpUrl from = response.request().url();
    String location = response.header("Location");
    if (location == null || location.isBlank()) {
      throw new ProtocolException("HTTP " + response.code() + " redirect without a Location header from "
          + spec.method + " " + from);
    }
    HttpUrl target = from.resolve(location);
    if (target == null) {
      throw new ProtocolException("HTTP " + response.code() + " redirect to an invalid Location \""
          + location + "\" from " + spec.method + " " + from);
    }
    if (from.isHttps() && !target.isHttps()) {
      throw new ProtocolException("Refused a redirect from " + from + " to " + target + ": it would send "
          + spec.method + " without TLS. The request was not applied.");
    }
    if (redirectChain == null) redirectChain = new ArrayList<>(4);
    redirectChain.add(from);
    if (redirectChain.contains(target)) {
      throw new ProtocolException("Redirect loop: " + spec.method + " " + chain(target)
          + "; the nodes disagree about who leads (election in progress?). The request was not applied.");
    }
    if (redirectChain.size() > MAX_REDIRECTS) {
      throw new ProtocolException("Too many redirects (more than " + MAX_REDIRECTS + "): "
          + spec.method + " " + chain(target) + ". The request was not applied.");
    }
    HttpUrl targetBase = Endpoints.baseOf(target);
    if (failed.contains(targetBase)) {
      ConnectException e = new ConnectException("Redirected by " + from + " to " + targetBase
          + ", which did not answer. The request was not applied.");
      if (failures != null) e.addSuppressed(failures);
      throw e;
    }
    if (spec.write) transport.endpoints().leaderFound(targetBase);
    base = targetBase;
    return spec.write ? write(spec.newRequest(target)) : spec.newRequest(target).build();
  }

  private Request failover(IOException e) throws IOException {
    if (failures == null) {
      failures = e;
    } else if (failures != e) {
      e.addSuppressed(failures);
      failures = e;
    }
    transport.endpointFailed(base);
    if (failed.isEmpty()) failed = new HashSet<>(4);
    failed.add(base);
    HttpUrl next = transport.endpoints().next(failed);
    if (next == null) throw failures;
    base = next;
    redirectChain = null;
    return requestOn(next);
  }

  /** The request on {@code endpoint}: a read's is built once per key and endpoint and reused. */
  private Request requestOn(HttpUrl endpoint) {
    return spec.write
        ? write(spec.newRequest(transport.url(endpoint, spec.api, spec.segments)))
        : transport.readRequest(spec, endpoint);
  }

  /** Each attempt of a write carries a fresh {@link SentMarker}. */
  private Request write(Request.Builder builder) {
    marker = new SentMarker();
    return builder.tag(SentMarker.class, marker).build();
  }

  private String chain(HttpUrl last) {
    StringBuilder s = new StringBuilder();
    for (HttpUrl url : redirectChain) s.append(url).append(" -> ");
    return s.append(last).toString();
  }

  private InterruptedIOException timedOut() {
    return new InterruptedIOException("timeout: " + spec.method + " " + spec.key()
        + " did not complete within " + TimeUnit.NANOSECONDS.toMillis(spec.timeoutNanos) + " ms");
  }

  private InterruptedIOException timedOut(IOException cause) {
    InterruptedIOException e = timedOut();
    e.initCause(cause);
    return e;
  }
}
