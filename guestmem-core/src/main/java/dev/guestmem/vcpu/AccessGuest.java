package dev.guestmem.vcpu;

import dev.guestmem.vm.Access;
import dev.guestmem.vm.Taken;
import dev.guestmem.vm.Vcpu;

/**
 * The {@link Guest} of a vCPU without a guest mode of its own (any {@link Vcpu} backend): each access
 * is one {@link Vcpu#read64} or {@link Vcpu#write64}.
 */
public final class AccessGuest implements Guest {
    private final Vcpu vcpu;
    private Access lastExit;

    public AccessGuest(Vcpu vcpu) {
        this.vcpu = vcpu;
    }

    @Override
    public int vcpuId() {
        return vcpu.id();
    }

    @Override
    public long read64(long gpa) {
        Access a = vcpu.read64(gpa);
        if (a instanceof Access.Value(long value)) {
            lastExit = null;
            return value;
        }
        lastExit = a;
        return 0;
    }

    @Override
    public boolean write64(long gpa, long value) {
        Access a = vcpu.write64(gpa, value);
        lastExit = a instanceof Access.Stored ? null : a;
        return lastExit == null;
    }

    @Override
    public boolean fill(long gpa, long count, long stride, long value) {
        Access a = vcpu.fillStrided(gpa, count, stride, value);
        lastExit = a instanceof Access.Stored ? null : a;
        return lastExit == null;
    }

    @Override
    public long take(long gpa, long count, long stride, long expected) {
        Taken taken = vcpu.takeStrided(gpa, count, stride, expected);
        lastExit = taken.exit();
        return taken.count();
    }

    @Override
    public Access lastExit() {
        return lastExit;
    }

    @Override
    public void idle(Runnable action) {
        action.run();
    }
}
