/**
 * The Zigbee hardware seam: a coordinator and the network behind it.
 * herdsman-controller.ts implements it on zigbee-herdsman; fake-controller.ts
 * replays recorded cluster reports for tests and demos.
 *
 * Call order: onEvent() any time; start() → events, permitJoin/read/command/
 * bind/configureReporting → stop(). After an 'adapterDisconnected' event or a failed
 * start(), the driver calls stop() and later start() again on the same object.
 * Device addresses are IEEE addresses as herdsman writes them: "0x" + 16 lower-case hex digits.
 */

export interface ZigbeeDeviceInfo {
  ieee: string;
  networkAddress?: number;
  type?: string;
  model?: string;
  vendor?: string;
  interview: 'pending' | 'in-progress' | 'successful' | 'failed';
  /** Epoch ms of the last message from the device, as the stack saw it. */
  lastSeen?: number;
  endpoints: number[];
}

export type ZigbeeEvent =
  | { type: 'deviceJoined'; ieee: string }
  | { type: 'deviceInterview'; ieee: string; status: 'started' | 'successful' | 'failed' }
  | { type: 'deviceLeave'; ieee: string }
  | {
      type: 'attributeReport';
      ieee: string;
      endpoint: number;
      /** Cluster name as in the ZCL (e.g. "msTemperatureMeasurement"). */
      cluster: string;
      attributes: Record<string, unknown>;
      linkquality?: number;
    }
  | {
      /** A cluster-specific command from the device, e.g. ssIasZone statusChangeNotification (how IAS sensors report). */
      type: 'clusterCommand';
      ieee: string;
      endpoint: number;
      cluster: string;
      /** Command name as in herdsman's ZCL definitions (e.g. "statusChangeNotification"). */
      command: string;
      /** Parameters by the definition's names (e.g. zonestatus, extendedstatus, zoneID, delay). */
      payload: Record<string, unknown>;
      linkquality?: number;
    }
  | { type: 'adapterDisconnected' };

export interface ReportingItem {
  attribute: string;
  minimumReportInterval: number;
  maximumReportInterval: number;
  reportableChange?: number;
}

export interface ZigbeeController {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Open the network for joining for `seconds` (0 closes it). */
  permitJoin(seconds: number): Promise<void>;
  devices(): ZigbeeDeviceInfo[];
  /** Read attributes; `endpoint` undefined = the first endpoint with that input cluster. */
  read(ieee: string, endpoint: number | undefined, cluster: string, attributes: string[]): Promise<Record<string, unknown>>;
  command(ieee: string, endpoint: number | undefined, cluster: string, command: string, payload: Record<string, unknown>): Promise<void>;
  /** Bind the device's cluster to the coordinator, so reports configured on it are sent to us. Call before configureReporting. */
  bind(ieee: string, endpoint: number | undefined, cluster: string): Promise<void>;
  configureReporting(ieee: string, endpoint: number | undefined, cluster: string, items: ReportingItem[]): Promise<void>;
  /** Returns a function that removes the listener. */
  onEvent(listener: (e: ZigbeeEvent) => void): () => void;
}
