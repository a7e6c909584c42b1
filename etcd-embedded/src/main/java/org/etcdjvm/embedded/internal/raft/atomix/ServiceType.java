package org.etcdjvm.embedded.internal.raft.atomix;

import io.atomix.primitive.PrimitiveBuilder;
import io.atomix.primitive.PrimitiveManagementService;
import io.atomix.primitive.PrimitiveType;
import io.atomix.primitive.PrimitiveTypeRegistry;
import io.atomix.primitive.config.PrimitiveConfig;
import io.atomix.primitive.service.PrimitiveService;
import io.atomix.primitive.service.ServiceConfig;
import java.util.Collection;
import java.util.List;
import org.etcdjvm.embedded.internal.raft.ReplicatedState;

/**
 * The Atomix primitive type of the replicated state. One instance per node: the service it creates
 * wraps that node's own {@link ReplicatedState}, which is how the HTTP layer reads the local replica
 * directly instead of through Raft queries.
 */
@SuppressWarnings("rawtypes")
final class ServiceType implements PrimitiveType, PrimitiveTypeRegistry {
  static final String NAME = "etcd-v1";

  private final ReplicatedState state;
  private final ServiceAdapter.RestoreListener listener;
  private final LocalOutcomes outcomes;

  ServiceType(ReplicatedState state, ServiceAdapter.RestoreListener listener, LocalOutcomes outcomes) {
    this.state = state;
    this.listener = listener;
    this.outcomes = outcomes;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public PrimitiveConfig newConfig() {
    throw new UnsupportedOperationException("the replicated state is not built through Atomix's primitive builders");
  }

  @Override
  public PrimitiveBuilder newBuilder(String primitiveName, PrimitiveConfig config, PrimitiveManagementService managementService) {
    throw new UnsupportedOperationException("the replicated state is not built through Atomix's primitive builders");
  }

  @Override
  public PrimitiveService newService(ServiceConfig config) {
    return new ServiceAdapter(state, listener, outcomes);
  }

  @Override
  public Collection<PrimitiveType> getPrimitiveTypes() {
    return List.of(this);
  }

  @Override
  public PrimitiveType getPrimitiveType(String typeName) {
    if (!NAME.equals(typeName)) {
      throw new IllegalArgumentException("unknown primitive type " + typeName);
    }
    return this;
  }
}
