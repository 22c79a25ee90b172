/**
 * The ACS emulator's access key (`apps/acs-emulator`): base64 of the ASCII text
 * `acs-emulator-development-access-key-not-a-secret`. Public on purpose, so it is no credential at all: the apps
 * default to it in development and test, and production refuses it.
 */
export const ACS_EMULATOR_ACCESS_KEY = 'YWNzLWVtdWxhdG9yLWRldmVsb3BtZW50LWFjY2Vzcy1rZXktbm90LWEtc2VjcmV0';

/**
 * Resource id of the emulator's pretend ACS resource, in the form Event Grid puts in an event's `topic` (Event
 * Grid schema) or `source` (CloudEvents): the source status-poller accepts delivery reports from by default.
 */
export const ACS_EMULATOR_RESOURCE_ID =
  '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/acs-emulator' +
  '/providers/Microsoft.Communication/communicationServices/acs-emulator';

/**
 * The header status-poller's delivery-report webhook reads its key from. Event Grid sends it as a static, secret
 * custom delivery property of the subscription ("Custom delivery properties",
 * https://learn.microsoft.com/azure/event-grid/delivery-properties); the emulator sends it the same way.
 */
export const DELIVERY_REPORT_KEY_HEADER = 'X-Delivery-Report-Key';
