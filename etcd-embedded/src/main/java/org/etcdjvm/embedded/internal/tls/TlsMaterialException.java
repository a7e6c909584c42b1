package org.etcdjvm.embedded.internal.tls;

/**
 * TLS material that cannot be used: a missing, unreadable or malformed file, a key that does not
 * match its certificate, an expired certificate. The message is one sentence that names the file
 * (or the source) and the problem, fit to show a user as is.
 */
public final class TlsMaterialException extends Exception {
  private static final long serialVersionUID = 1L;

  public TlsMaterialException(String message) {
    super(message);
  }

  public TlsMaterialException(String message, Throwable cause) {
    super(message, cause);
  }
}
