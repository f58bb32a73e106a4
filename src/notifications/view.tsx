/**
 * The notification bell of the page header and the place its short notices appear. Filled and
 * kept live by /assets/notifications.js from the user's realtime document (docs/realtime.md).
 */
export function NotificationBell() {
  return (
    <details class="bell" data-bell>
      <summary>
        Notifications{' '}
        <span class="bell-count" data-bell-count aria-hidden="true" hidden>
          0
        </span>
        <span class="sr-only" data-bell-label>
          0 unread notifications
        </span>
      </summary>
      <div class="bell-panel">
        <p class="bell-empty" data-bell-empty>
          No notifications yet.
        </p>
        <ol class="bell-list" data-bell-list></ol>
        <button type="button" data-bell-read disabled>
          Mark all read
        </button>
      </div>
    </details>
  );
}

/**
 * Where a new notification is announced for a few seconds (and read out by screen readers): the
 * `notices` component of public/js/alpine-components.js shows each `portal-notice` event.
 */
export function Notices() {
  return (
    <div
      class="notices"
      role="status"
      aria-live="polite"
      data-notices
      x-data="notices"
      {...{ 'x-on:portal-notice.window': 'show' }}
    >
      <template x-for="notice in items" x-bind:key="notice.id">
        <p class="notice" x-text="notice.message"></p>
      </template>
    </div>
  );
}
