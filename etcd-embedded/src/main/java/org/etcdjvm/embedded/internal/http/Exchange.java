package org.etcdjvm.embedded.internal.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.concurrent.EventExecutor;
import java.util.concurrent.RejectedExecutionException;
import org.etcdjvm.embedded.internal.store.EtcdError;

/**
 * One request being answered. It is answered exactly once; a second answer (a watch event racing a
 * hang-up, say) is dropped. Confined to the channel's event loop, except {@link #execute}.
 *
 * <p>It holds its request's bytes in the node's budget of buffered request bytes until it is
 * answered: for a write, that covers the value waiting for Raft too. A route that keeps an exchange
 * open for long without needing the request any more (a watch) lets go of them, and of its
 * address's turn, with {@link #waitingLong()}.
 */
final class Exchange {
  static final String X_ETCD_INDEX = "X-Etcd-Index";
  private final HttpConnection connection;
  private final HttpVersion version;
  private final boolean keepAlive;
  private final RequestTarget target;
  private long requestBytes;
  private boolean done;
  private String allowOrigin;
  /** The replica's index to send as {@code X-Etcd-Index}, or -1. */
  private long etcdIndex = -1;

  Exchange(HttpConnection connection, HttpVersion version, boolean keepAlive, RequestTarget target,
      long requestBytes) {
    this.connection = connection;
    this.version = version;
    this.keepAlive = keepAlive;
    this.target = target;
    this.requestBytes = requestBytes;
  }

  HttpVersion version() {
    return version;
  }

  /** Whether the client asked to keep the connection open after this response. */
  boolean keepAlive() {
    return keepAlive;
  }

  String rawPath() {
    return target.rawPath();
  }

  /** The raw query string, or null when the request had no {@code ?}. */
  String rawQuery() {
    return target.rawQuery();
  }

  Channel channel() {
    return connection.channel();
  }

  /** The event loop of this request's connection. */
  EventExecutor executor() {
    return connection.executor();
  }

  boolean isDone() {
    return done;
  }

  /** The request's path and version, for the debug log. */
  @Override
  public String toString() {
    String path = target.rawPath();
    return (path.length() > 80 ? path.substring(0, 80) + "..." : path) + " " + version;
  }

  /** The client address's share of the node's limits. */
  Admission.Client client() {
    return connection.client();
  }

  Admission admission() {
    return connection.admission();
  }

  /**
   * The request will wait long without costing the node anything (a long-poll watch): gives back
   * its bytes ({@link #releaseRequestBytes}) and its address's turn, so that a client's watches do
   * not count against its requests in progress.
   */
  void waitingLong() {
    releaseRequestBytes();
    connection.waitingLong();
  }

  /** Gives this request's bytes back to the budget; done by {@link #respond} at the latest. */
  void releaseRequestBytes() {
    if (requestBytes > 0) {
      connection.releaseRequestBytes(requestBytes);
      requestBytes = 0;
    }
  }

  /**
   * Runs {@code task} on this request's event loop: at once when already there, else queued. Safe
   * from any thread; does nothing once the server is shutting down.
   */
  void execute(Runnable task) {
    EventExecutor loop = connection.executor();
    if (loop.inEventLoop()) {
      task.run();
      return;
    }
    try {
      loop.execute(task);
    } catch (RejectedExecutionException shuttingDown) {
      // The server is closing; the channel goes with it.
    }
  }

  /** CORS: the {@code Access-Control-Allow-Origin} every response to this request carries. */
  void allowOrigin(String origin) {
    this.allowOrigin = origin;
  }

  /**
   * The index this answer reflects (the replica's store index when it read, or a write's index),
   * sent as {@code X-Etcd-Index} (etcd v2's header): clients use it to read their own writes.
   */
  void etcdIndex(long index) {
    this.etcdIndex = index;
  }

  /** Sends {@code response} unless this request was already answered. On the event loop only. */
  void respond(FullHttpResponse response) {
    if (done) {
      response.release();
      return;
    }
    done = true;
    if (allowOrigin != null) {
      response.headers().set(io.netty.handler.codec.http.HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, allowOrigin);
    }
    if (etcdIndex >= 0) {
      response.headers().set(X_ETCD_INDEX, Long.toString(etcdIndex));
    }
    releaseRequestBytes();
    connection.send(this, response);
  }

  /** A 200 with a JSON body the caller hands over. */
  void respondJson(ByteBuf body) {
    respond(HttpResponses.json(version, HttpResponseStatus.OK, body));
  }

  /** A 200 whose body of the given media type is written in chunks as the client reads it. */
  void respondStreamed(CharSequence contentType, ListingBody body) {
    if (done) {
      body.close();
      return;
    }
    done = true;
    releaseRequestBytes();
    io.netty.handler.codec.http.HttpResponse head = HttpResponses.streamedHead(version, contentType, body.length());
    if (allowOrigin != null) {
      head.headers().set(io.netty.handler.codec.http.HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, allowOrigin);
    }
    if (etcdIndex >= 0) {
      head.headers().set(X_ETCD_INDEX, Long.toString(etcdIndex));
    }
    connection.sendStreamed(this, head, body);
  }

  void respondJson(byte[] body) {
    respond(HttpResponses.json(version, HttpResponseStatus.OK, body));
  }

  void respondText(String body) {
    respond(HttpResponses.text(version, HttpResponseStatus.OK, body));
  }

  void respondError(EtcdError error, String cause) {
    respond(HttpResponses.error(version, error, cause));
  }

  void respondError(HttpResponseStatus status, EtcdError error, String cause) {
    respond(HttpResponses.error(version, status, error, cause));
  }

  void respondEmpty(HttpResponseStatus status) {
    respond(HttpResponses.empty(version, status));
  }

  void respondMethodNotAllowed(String allow) {
    respond(HttpResponses.methodNotAllowed(version, allow));
  }

  void respondNotFound() {
    respond(HttpResponses.notFound(version));
  }
}
