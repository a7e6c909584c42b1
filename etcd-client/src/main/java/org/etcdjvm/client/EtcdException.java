package org.etcdjvm.client;

/**
 * etcd answered with an error object, {@code {"errorCode":N,"message":"...","cause":"..."}}.
 *
 * <p>The request reached etcd and etcd refused it, so retrying the same request gives the same
 * answer unless the data changes. Transport failures are {@link java.io.IOException}s instead.
 * The common codes have subclasses: {@link KeyNotFoundException} (100), {@link
 * CompareFailedException} (101), {@link NotAFileException} (102) and {@link IndexClearedException}
 * (401); every other code is an {@code EtcdException} with that {@link #errorCode()}.
 *
 * <p>{@link #getMessage()} is readable (code, message and cause); the server's own text is
 * {@link #errorMessage()}. Immutable.
 */
public class EtcdException extends Exception {
  /** {@code Key Not Found}: a get, delete or compare-and-set of a key that does not exist. */
  public static final int KEY_NOT_FOUND = 100;
  /** {@code The given PrevValue is not equal to the value of the key}: compare-and-set or create failed. */
  public static final int TEST_FAILED = 101;
  /** {@code Not A File}: setting through or onto a directory (also raised by this client for a get of a directory). */
  public static final int NOT_FILE = 102;
  /** {@code Value is Required in POST form}. */
  public static final int VALUE_REQUIRED = 200;
  /** {@code The given TTL in POST form is not a number} (etcdjvm also uses it for ttl &lt;= 0). */
  public static final int TTL_NAN = 202;
  /** {@code The given index in POST form is not a number}. */
  public static final int INDEX_NAN = 203;
  /** {@code Raft Internal Error}: no leader (HTTP 500), or too many watchers (HTTP 503). */
  public static final int RAFT_INTERNAL = 300;
  /** {@code During Leader Election}. */
  public static final int LEADER_ELECTION = 301;
  /** {@code The prefix of the given key is a keyword in etcd}: {@code /_etcd} and {@code /ephemeralNodes} are read-only. */
  public static final int KEYWORD_PREFIX = 400;
  /** {@code The event in requested index is outdated and cleared}: a watch from before the retained history. */
  public static final int EVENT_INDEX_CLEARED = 401;
  /** {@code watcher is cleared due to etcd recovery}. */
  public static final int WATCHER_CLEARED = 500;

  private final int errorCode;
  private final String errorMessage;
  private final String etcdCause;
  private final long index;

  /**
   * @param errorCode etcd's error code
   * @param errorMessage etcd's message; may be null
   * @param cause etcd's cause string; may be null
   */
  public EtcdException(int errorCode, String errorMessage, String cause) {
    this(errorCode, errorMessage, cause, 0);
  }

  /** As {@link #EtcdException(int, String, String)}, with the {@code index} a v2-style server adds. */
  public EtcdException(int errorCode, String errorMessage, String cause, long index) {
    super(format(errorCode, errorMessage, cause));
    this.errorCode = errorCode;
    this.errorMessage = errorMessage;
    this.etcdCause = cause;
    this.index = index;
  }

  /** Returns the subclass for {@code errorCode}, or a plain {@code EtcdException}. */
  public static EtcdException of(int errorCode, String errorMessage, String cause, long index) {
    switch (errorCode) {
      case KEY_NOT_FOUND: return new KeyNotFoundException(errorMessage, cause, index);
      case TEST_FAILED: return new CompareFailedException(errorMessage, cause, index);
      case NOT_FILE: return new NotAFileException(errorMessage, cause, index);
      case EVENT_INDEX_CLEARED: return new IndexClearedException(errorMessage, cause, index);
      default: return new EtcdException(errorCode, errorMessage, cause, index);
    }
  }

  /** etcd's error code, such as 100 for "Key Not Found". */
  public int errorCode() {
    return errorCode;
  }

  /** etcd's message text, such as {@code "Key Not Found"}; null if the server sent none. */
  public String errorMessage() {
    return errorMessage;
  }

  /**
   * etcd's {@code cause} field, such as {@code "get: /foo"} or {@code "TestAndSet: one!=two"}; null
   * if absent. (Not {@link #getCause()}, which is always null for an etcd error.)
   */
  public String cause() {
    return etcdCause;
  }

  /** The {@code index} field of the error, or 0: etcd 0.1 never sends one. */
  public long index() {
    return index;
  }

  private static String format(int errorCode, String message, String cause) {
    StringBuilder s = new StringBuilder("etcd error ").append(errorCode);
    if (message != null) s.append(' ').append(message);
    if (cause != null) s.append(" (cause: ").append(cause).append(')');
    return s.toString();
  }
}
