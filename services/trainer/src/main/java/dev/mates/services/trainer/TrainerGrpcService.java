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
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcService;
import io.smallrye.common.annotation.Blocking;
import jakarta.inject.Inject;

/** The Trainer gRPC service: thin adapter over {@link RunManager}. */
@GrpcService
public class TrainerGrpcService extends TrainerGrpc.TrainerImplBase {
    @Inject
    RunManager runs;

    private static String runId(String id) {
        if (id.isEmpty()) throw GrpcErrors.invalid("run_id", "is required");
        return id;
    }

    @Override
    @Blocking
    public void startRun(StartRunRequest request, StreamObserver<RunStatus> observer) {
        GrpcErrors.unary(observer, () -> runs.startRun(request));
    }

    @Override
    @Blocking
    public void getRun(GetRunRequest request, StreamObserver<RunStatus> observer) {
        GrpcErrors.unary(observer, () -> runs.status(runId(request.getRunId())));
    }

    @Override
    @Blocking
    public void cancelRun(CancelRunRequest request, StreamObserver<RunStatus> observer) {
        GrpcErrors.unary(observer, () -> runs.cancel(runId(request.getRunId())));
    }

    @Override
    @Blocking
    public void resumeRun(ResumeRunRequest request, StreamObserver<RunStatus> observer) {
        GrpcErrors.unary(observer, () -> runs.resume(runId(request.getRunId())));
    }

    @Override
    @Blocking
    public void getReport(GetReportRequest request, StreamObserver<Report> observer) {
        GrpcErrors.unary(observer, () -> {
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
            observer.onError(GrpcErrors.toStatus(t));
        }
    }
}
