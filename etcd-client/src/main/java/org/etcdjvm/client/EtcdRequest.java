package org.etcdjvm.client;

import java.io.IOException;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Supplier;
import org.etcdjvm.client.internal.RequestSpec;
import org.etcdjvm.client.internal.ResponseReader;
import org.etcdjvm.client.internal.Transport;

/**
 * A request ready to send, blocking with {@link #send()} or asynchronously with {@link
 * #sendAsync()}. Made by {@link EtcdClient}'s methods.
 *
 * <p>Immutable and thread-safe: the fluent methods return a new request, and one request may be
 * sent any number of times, from any thread. Sending follows leader redirects and fails over
 * between endpoints as described on {@link EtcdClient}.
 *
 * @param <T> what a successful send returns
 */
public class EtcdRequest<T> {
  final Transport transport;
  final RequestSpec spec;
  final ResponseReader<T> reader;
  private final Supplier<T> ifKeyNotFound;

  EtcdRequest(Transport transport, RequestSpec spec, ResponseReader<T> reader, Supplier<T> ifKeyNotFound) {
    this.transport = transport;
    this.spec = spec;
    this.reader = reader;
    this.ifKeyNotFound = ifKeyNotFound;
  }

  /**
   * Sends the request on the calling thread and returns the result.
   *
   * @throws EtcdException etcd answered with an error object (a typed subclass for the common codes)
   * @throws WriteOutcomeUnknownException a write was sent and then the connection failed, or the
   *     server answered with a 5xx other than "no leader" (such as a commit timeout); it was not
   *     re-sent
   * @throws java.net.ProtocolException a redirect loop, too many redirects, a redirect without
   *     {@code Location}, an unexpected status or a malformed body
   * @throws IOException no endpoint could be reached (the last failure, earlier ones suppressed), or
   *     the {@linkplain #timeout timeout} elapsed ({@link java.io.InterruptedIOException})
   * @throws IllegalStateException the client is closed
   */
  public T send() throws IOException, EtcdException {
    if (ifKeyNotFound == null) return transport.execute(spec, reader);
    try {
      return transport.execute(spec, reader);
    } catch (KeyNotFoundException e) {
      return ifKeyNotFound.get();
    }
  }

  /**
   * Sends the request on the client's dispatcher. The future completes on an OkHttp thread, with
   * the same result or exception {@link #send()} would have; cancelling it cancels the call.
   *
   * @throws IllegalStateException the client is closed
   */
  public CompletableFuture<T> sendAsync() {
    CompletableFuture<T> call = transport.executeAsync(spec, reader);
    if (ifKeyNotFound == null) return call;
    CompletableFuture<T> result = call.handle((value, error) -> {
      if (error == null) return value;
      Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
      if (cause instanceof KeyNotFoundException) return ifKeyNotFound.get();
      throw error instanceof CompletionException ? (CompletionException) error : new CompletionException(error);
    });
    result.whenComplete((value, error) -> {
      if (result.isCancelled()) call.cancel(true);
    });
    return result;
  }

  /**
   * A deadline for the whole request, redirects and failover included; it fails with {@link
   * java.io.InterruptedIOException} when exceeded. {@link Duration#ZERO} (the default) means
   * none: each HTTP call is then bounded only by the client's connect and read timeouts.
   */
  public EtcdRequest<T> timeout(Duration timeout) {
    return new EtcdRequest<>(transport, spec.withTimeoutNanos(timeoutNanos(timeout)), reader, ifKeyNotFound);
  }

  static long timeoutNanos(Duration timeout) {
    Objects.requireNonNull(timeout, "timeout == null");
    if (timeout.isNegative()) throw new IllegalArgumentException("timeout < 0: " + timeout);
    return timeout.toNanos();
  }

  @Override public String toString() {
    return spec.method() + " " + getClass().getSimpleName();
  }
}
