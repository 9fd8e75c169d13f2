// What Linux's /proc says about processes and CPUs: CPU time, command names, parents, resident
// memory and per-CPU busy time. Read when called; a vanished process throws (or gives undefined).

/** Clock ticks per second for /proc times (USER_HZ), from `getconf CLK_TCK`; 100 if unknown. */
export async function clockTicksPerSecond(): Promise<number> {
  try {
    const out = await new Deno.Command("getconf", { args: ["CLK_TCK"], stderr: "null" }).output();
    const value = Number(new TextDecoder().decode(out.stdout).trim());
    return Number.isInteger(value) && value > 0 ? value : 100;
  } catch {
    return 100;
  }
}

/**
 * The fields of /proc/PID/stat from field 3 (state) on: they are split after the last ")" because
 * the command name before them may contain spaces.
 */
function _statFields(pid: number | string): string[] {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/** utime + stime of a process, all threads, in clock ticks (fields 14 and 15 of /proc/PID/stat). */
export function cpuTicks(pid: number): number {
  const fields = _statFields(pid);
  return Number(fields[11]) + Number(fields[12]);
}

/** The command name of a process (/proc/PID/comm), e.g. to check that taskset has exec'd. */
export function commandName(pid: number): string {
  return Deno.readTextFileSync(`/proc/${pid}/comm`).trim();
}

/** The PIDs whose parent is `pid` (field 4 of /proc/PID/stat); empty without /proc. */
export function childPids(pid: number): number[] {
  const found: number[] = [];
  try {
    for (const entry of Deno.readDirSync("/proc")) {
      if (!/^\d+$/.test(entry.name)) continue;
      try {
        if (Number(_statFields(entry.name)[1]) === pid) found.push(Number(entry.name));
      } catch {
        // The process ended while being read.
      }
    }
  } catch {
    // No /proc: nothing to find.
  }
  return found;
}

/** Resident memory of a process in bytes (VmRSS), or undefined once it is gone. */
export function residentBytes(pid: number): number | undefined {
  try {
    const kib = /^VmRSS:\s+(\d+) kB$/m.exec(Deno.readTextFileSync(`/proc/${pid}/status`))?.[1];
    return kib === undefined ? undefined : Number(kib) * 1024;
  } catch {
    return undefined;
  }
}

/** Busy and idle clock ticks of one CPU, from /proc/stat. */
export interface CoreTicks {
  busy: number;
  idle: number;
  steal: number;
}

/** Per-CPU tick counters (/proc/stat `cpuN` lines: busy = user+nice+system+irq+softirq+steal). */
export function coreTicks(): CoreTicks[] {
  const cores: CoreTicks[] = [];
  for (const line of Deno.readTextFileSync("/proc/stat").split("\n")) {
    const m = line.match(/^cpu(\d+)\s+(.*)$/);
    if (!m) continue;
    const [user, nice, system, idle, iowait, irq, softirq, steal] = m[2]!.split(/\s+/).map(Number);
    cores[Number(m[1])] = {
      busy: user! + nice! + system! + irq! + softirq! + steal!,
      idle: idle! + iowait!,
      steal: steal!,
    };
  }
  return cores;
}

/** `after - before`, CPU by CPU. */
export function coreDelta(before: CoreTicks[], after: CoreTicks[]): CoreTicks[] {
  return after.map((a, i) => ({
    busy: a.busy - (before[i]?.busy ?? 0),
    idle: a.idle - (before[i]?.idle ?? 0),
    steal: a.steal - (before[i]?.steal ?? 0),
  }));
}

/**
 * Pins this process (every thread) to one CPU with `taskset -a -p`, so a benchmark's client stays
 * off the server's CPU. `where` names the caller in the error.
 * @throws {Error} when taskset fails.
 */
export async function pinSelf(where: string, cpu: number): Promise<void> {
  const out = await new Deno.Command("taskset", {
    args: ["-a", "-p", "-c", String(cpu), String(Deno.pid)],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`${where}: taskset failed: ${new TextDecoder().decode(out.stderr)}`);
  }
}
