package org.etcdjvm.client;

import java.io.IOException;

/**
 * A write may or may not have been applied: the connection failed after the request was sent, or
 * the server answered with a 5xx, such as error 300 {@code "timed out waiting for commit (outcome
 * unknown)"} or a non-JSON 500. Only error 300 with cause {@code "no leader"} (or no cause, as etcd
 * 0.1 sent it) is reported as a plain {@link EtcdException}: that write was refused, not applied.
 *
 * <p>The client never re-sends such a write by itself, because a set, compare-and-set or delete
 * applied twice is not the same as once. Read the key to find out, then decide. Writes that
 * certainly did not arrive (connection refused, a 307 redirect) are retried on another endpoint
 * and never end here. {@link #getCause()} is the underlying failure, if any.
 */
public final class WriteOutcomeUnknownException extends IOException {
  private final String method;
  private final String url;

  /**
   * @param detail what went wrong, for the message
   * @param cause the underlying failure; may be null
   */
  public WriteOutcomeUnknownException(String method, String url, String detail, Throwable cause) {
    super(method + " " + url + " may or may not have been applied (" + detail
        + "); it was not re-sent", cause);
    this.method = method;
    this.url = url;
  }

  /** The HTTP method of the write: {@code POST} or {@code DELETE}. */
  public String method() {
    return method;
  }

  /** The URL the write was last sent to. */
  public String url() {
    return url;
  }
}
