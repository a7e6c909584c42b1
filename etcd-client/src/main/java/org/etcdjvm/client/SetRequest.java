package org.etcdjvm.client;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import okhttp3.FormBody;
import org.etcdjvm.client.internal.EtcdJson;
import org.etcdjvm.client.internal.RequestSpec;
import org.etcdjvm.client.internal.Transport;

/**
 * A set, compare-and-set or create: {@code POST /v1/keys/<key>} with form fields {@code value},
 * and optionally {@code ttl} and {@code prevValue}. Returns the server's {@code "SET"} response
 * ({@link EtcdResponse#newKey()} tells whether the key was created).
 *
 * <p>A write goes to the remembered leader, follows 307 redirects with the same method and body,
 * and moves to another endpoint only if it provably never reached the first one. Immutable and
 * thread-safe.
 */
public final class SetRequest extends EtcdRequest<EtcdResponse> {
  private final List<String> segments;
  private final String value;
  private final String prevValue;
  private final long ttlSeconds;
  private final long timeoutNanos;

  SetRequest(Transport transport, List<String> segments, String value, String prevValue,
      long ttlSeconds, long timeoutNanos) {
    super(transport, spec(segments, value, prevValue, ttlSeconds, timeoutNanos), EtcdJson::readObject, null);
    this.segments = segments;
    this.value = value;
    this.prevValue = prevValue;
    this.ttlSeconds = ttlSeconds;
    this.timeoutNanos = timeoutNanos;
  }

  private static RequestSpec spec(List<String> segments, String value, String prevValue,
      long ttlSeconds, long timeoutNanos) {
    FormBody.Builder form = new FormBody.Builder().add("value", value);
    if (ttlSeconds > 0) form.add("ttl", Long.toString(ttlSeconds));
    if (prevValue != null) form.add("prevValue", prevValue);
    return RequestSpec.write("POST", segments, form.build()).withTimeoutNanos(timeoutNanos);
  }

  /**
   * The key expires {@code ttl} after the write; etcd counts whole seconds, so a fraction is
   * rounded up. Without it the key is permanent (and a set without a TTL makes an expiring key
   * permanent).
   *
   * @throws IllegalArgumentException if {@code ttl} is less than one second
   */
  public SetRequest ttl(Duration ttl) {
    Objects.requireNonNull(ttl, "ttl == null");
    if (ttl.compareTo(Duration.ofSeconds(1)) < 0) {
      throw new IllegalArgumentException("ttl < 1s: " + ttl + " (etcd counts TTLs in whole seconds)");
    }
    long seconds = ttl.getSeconds() + (ttl.getNano() > 0 ? 1 : 0);
    return new SetRequest(transport, segments, value, prevValue, seconds, timeoutNanos);
  }

  @Override public SetRequest timeout(Duration timeout) {
    return new SetRequest(transport, segments, value, prevValue, ttlSeconds, timeoutNanos(timeout));
  }
}
