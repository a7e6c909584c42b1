package org.etcdjvm.embedded.internal.store;

import java.util.Objects;

/**
 * An etcd error raised by the store: a typed {@link EtcdError} plus the {@code cause} text that goes
 * on the wire (e.g. {@code "get: /foo"}), or {@code null} when the error has none.
 *
 * <p>Immutable and thread-safe. Carries no stack trace: it is an expected outcome, not a bug, and it
 * is created on the hot path.
 */
public final class StoreException extends Exception {
  private static final long serialVersionUID = 1L;

  private final EtcdError error;
  private final String cause;

  /**
   * @param error the etcd error, never null
   * @param cause the wire {@code cause}, or null to leave it out
   */
  public StoreException(EtcdError error, String cause) {
    super(error.code() + " " + error.message() + (cause == null ? "" : " (" + cause + ")"), null, false, false);
    this.error = Objects.requireNonNull(error, "error");
    this.cause = cause;
  }

  /** The etcd error. */
  public EtcdError error() {
    return error;
  }

  /** The wire {@code cause}, or null. */
  public String cause() {
    return cause;
  }
}
