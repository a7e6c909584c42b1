package org.etcdjvm.embedded.internal.store;

/**
 * The etcd 0.1.x error codes this node can report, with their exact wire messages (v1-api.md §11).
 *
 * <p>Immutable and thread-safe. {@link #httpStatus()} follows the v0.1.1+ rule: 500 for every 3xx
 * code, 400 for everything else.
 */
public enum EtcdError {
  KEY_NOT_FOUND(100, "Key Not Found"),
  TEST_FAILED(101, "The given PrevValue is not equal to the value of the key"),
  NOT_A_FILE(102, "Not A File"),
  VALUE_REQUIRED(200, "Value is Required in POST form"),
  TTL_NAN(202, "The given TTL in POST form is not a number"),
  INDEX_NAN(203, "The given index in POST form is not a number"),
  /** Our addition: key too long, not valid, or climbing above the root; value too large. */
  INVALID_FIELD(209, "Invalid field"),
  RAFT_INTERNAL(300, "Raft Internal Error"),
  LEADER_ELECTION(301, "During Leader Election"),
  KEYWORD(400, "The prefix of the given key is a keyword in etcd"),
  EVENT_INDEX_CLEARED(401, "The event in requested index is outdated and cleared");

  private final int code;
  private final String message;

  EtcdError(int code, String message) {
    this.code = code;
    this.message = message;
  }

  /** The numeric {@code errorCode}. */
  public int code() {
    return code;
  }

  /** The exact {@code message} text etcd sends. */
  public String message() {
    return message;
  }

  /** 500 when the hundreds digit is 3, else 400. */
  public int httpStatus() {
    return code / 100 == 3 ? 500 : 400;
  }

  /**
   * The error with this code.
   *
   * @throws IllegalArgumentException if no error has this code
   */
  public static EtcdError ofCode(int code) {
    for (EtcdError e : values()) {
      if (e.code == code) {
        return e;
      }
    }
    throw new IllegalArgumentException("unknown etcd error code: " + code);
  }
}
