package dev.mates.services.trainer;

import dev.mates.proto.v1.CancelRunRequest;
import dev.mates.proto.v1.GetReportRequest;
import dev.mates.proto.v1.GetRunRequest;
import dev.mates.proto.v1.Report;
import dev.mates.proto.v1.ResumeRunRequest;
import dev.mates.proto.v1.RunEvent;
import dev.mates.proto.v1.RunStatus;
import dev.mates.proto.v1.StartRunRequest;
import dev.mates.proto.v1.TrainerGrpc;
import dev.mates.proto.v1.WatchRunRequest;
import dev.mates.services.common.GrpcErrors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcService;
import io.smallrye.common.annotation.Blocking;
import jakarta.inject.Inject;
import java.util.function.Supplier;

/**
 * The Trainer gRPC service: thin adapter over {@link RunManager}. The only place where the trainer's errors become
 * gRPC status codes (docs/api.md).
 */
@GrpcService
public class TrainerGrpcService extends TrainerGrpc.TrainerImplBase {
    @Inject
    RunManager runs;

    private static String runId(String id) {
        if (id.isEmpty()) throw GrpcErrors.invalid("run_id", "is required");
        return id;
    }

    /** {@link RunErrors} to their codes; everything else as every service maps it. */
    static StatusRuntimeException status(Throwable t) {
        if (t instanceof RunErrors.NoSuchRun) return Status.NOT_FOUND.withDescription(t.getMessage()).asRuntimeException();
        if (t instanceof RunErrors.RunExists) return Status.ALREADY_EXISTS.withDescription(t.getMessage()).asRuntimeException();
        if (t instanceof RunErrors.Denied) return Status.PERMISSION_DENIED.withDescription(t.getMessage()).asRuntimeException();
        if (t instanceof RunErrors.Busy) return Status.RESOURCE_EXHAUSTED.withDescription(t.getMessage()).asRuntimeException();
        if (t instanceof RunErrors.WrongState) {
            return Status.FAILED_PRECONDITION.withDescription(t.getMessage()).asRuntimeException();
        }
        return GrpcErrors.toStatus(t);
    }

    private static <T> void unary(StreamObserver<T> observer, Supplier<T> call) {
        GrpcErrors.unary(observer, call, TrainerGrpcService::status);
    }

    @Override
    @Blocking
    public void startRun(StartRunRequest request, StreamObserver<RunStatus> observer) {
        unary(observer, () -> runs.startRun(request));
    }

    @Override
    @Blocking
    public void getRun(GetRunRequest request, StreamObserver<RunStatus> observer) {
        unary(observer, () -> runs.status(runId(request.getRunId())));
    }

    @Override
    @Blocking
    public void cancelRun(CancelRunRequest request, StreamObserver<RunStatus> observer) {
        unary(observer, () -> runs.cancel(runId(request.getRunId())));
    }

    @Override
    @Blocking
    public void resumeRun(ResumeRunRequest request, StreamObserver<RunStatus> observer) {
        unary(observer, () -> runs.resume(runId(request.getRunId())));
    }

    @Override
    @Blocking
    public void getReport(GetReportRequest request, StreamObserver<Report> observer) {
        unary(observer, () -> {
            String id = runId(request.getRunId());
            String json = runs.reportJson(id);
            return Report.newBuilder().setRunId(id).setJson(json).setReportRef(runs.status(id).getReportRef()).build();
        });
    }

    @Override
    @Blocking
    public void watchRun(WatchRunRequest request, StreamObserver<RunEvent> observer) {
        try {
            String id = runId(request.getRunId());
            RunStatus now = runs.status(id);
            ServerCallStreamObserver<RunEvent> server = (ServerCallStreamObserver<RunEvent>) observer;
            Object lock = new Object();
            boolean[] ended = {false};
            synchronized (lock) {
                observer.onNext(RunEvent.newBuilder().setStatus(now).build());
            }
            Runnable unsubscribe = runs.watch(id, e -> {
                synchronized (lock) {
                    if (!ended[0] && !server.isCancelled()) observer.onNext(e);
                }
            }, () -> {
                synchronized (lock) {
                    if (!ended[0]) {
                        ended[0] = true;
                        if (!server.isCancelled()) observer.onCompleted();
                    }
                }
            });
            if (unsubscribe == null) {
                synchronized (lock) {
                    ended[0] = true;
                    observer.onCompleted(); // not running here: the status above is final
                }
                return;
            }
            server.setOnCancelHandler(unsubscribe);
        } catch (Throwable t) {
            observer.onError(status(t));
        }
    }
}
