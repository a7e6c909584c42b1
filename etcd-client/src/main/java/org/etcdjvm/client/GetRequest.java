package org.etcdjvm.client;

import com.squareup.moshi.JsonAdapter;
import java.lang.reflect.Type;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.etcdjvm.client.internal.EtcdJson;
import org.etcdjvm.client.internal.RequestSpec;
import org.etcdjvm.client.internal.ResponseReader;
import org.etcdjvm.client.internal.Transport;

/**
 * A read of one key: {@code GET /v1/keys/<key>}. By default it returns the {@link EtcdResponse};
 * {@link #as(Class)} decodes the value as JSON instead. A missing key throws {@link
 * KeyNotFoundException}, unless the request was made with {@link #orNull()} or {@link
 * #optional()}. A directory throws {@link NotAFileException}: use {@link EtcdClient#list} for
 * those.
 *
 * <p>Reads are answered by whichever node receives them (possibly a slightly stale follower, as in
 * etcd v1) and are retried on the next endpoint on connection failures and 5xx. Immutable and
 * thread-safe.
 *
 * @param <T> the result: {@link EtcdResponse}, or the type given to {@link #as}
 */
public final class GetRequest<T> extends EtcdRequest<T> {
  private final List<String> segments;

  GetRequest(Transport transport, List<String> segments, RequestSpec spec, ResponseReader<T> reader) {
    super(transport, spec, reader, null);
    this.segments = segments;
  }

  static GetRequest<EtcdResponse> of(Transport transport, List<String> segments) {
    return new GetRequest<>(transport, segments, RequestSpec.read("keys", segments),
        response -> EtcdJson.readFile(response, segments));
  }

  /**
   * Decodes the key's value as JSON with the client's {@link com.squareup.moshi.Moshi}. Decoding
   * errors surface as Moshi's {@link com.squareup.moshi.JsonDataException} or {@link
   * com.squareup.moshi.JsonEncodingException}.
   *
   * @throws IllegalArgumentException if Moshi has no adapter for {@code type}
   */
  public <U> GetRequest<U> as(Class<U> type) {
    return as((Type) Objects.requireNonNull(type, "type == null"));
  }

  /** As {@link #as(Class)}, for generic types such as {@code Types.newParameterizedType(List.class, String.class)}. */
  public <U> GetRequest<U> as(Type type) {
    Objects.requireNonNull(type, "type == null");
    JsonAdapter<U> adapter = transport.moshi().adapter(type);
    ResponseReader<U> decode = response -> {
      String value = EtcdJson.readFile(response, segments).value();
      return value == null ? null : adapter.fromJson(value);
    };
    return new GetRequest<>(transport, segments, spec, decode);
  }

  /** The same read, returning null instead of throwing {@link KeyNotFoundException}. */
  public EtcdRequest<T> orNull() {
    return new EtcdRequest<>(transport, spec, reader, () -> null);
  }

  /** The same read, returning {@link Optional#empty()} for a missing key (or a JSON {@code null}). */
  public EtcdRequest<Optional<T>> optional() {
    ResponseReader<T> inner = reader;
    return new EtcdRequest<>(transport, spec, response -> Optional.ofNullable(inner.read(response)),
        Optional::empty);
  }

  @Override public GetRequest<T> timeout(Duration timeout) {
    return new GetRequest<>(transport, segments, spec.withTimeoutNanos(timeoutNanos(timeout)), reader);
  }
}
