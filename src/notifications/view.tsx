/**
 * The notification bell of the page header and the place its short notices appear: the `bell`
 * component of /assets/notifications.js keeps them live from the user's realtime document
 * (docs/realtime.md).
 */
export function NotificationBell() {
  return (
    <details class="bell" data-bell x-data="bell" x-bind:data-unread="unread">
      <summary>
        Notifications{' '}
        <span
          class="bell-count"
          data-bell-count
          aria-hidden="true"
          hidden
          x-bind:hidden="countHidden"
          x-text="unread"
        >
          0
        </span>
        <span class="sr-only" data-bell-label x-text="label">
          0 unread notifications
        </span>
      </summary>
      <div class="bell-panel">
        <p class="bell-empty" data-bell-empty x-bind:hidden="emptyHidden">
          No notifications yet.
        </p>
        <ol class="bell-list" data-bell-list>
          <template x-for="n in entries" x-bind:key="n.id">
            <li x-bind:data-notification="n.id" x-bind:class="n.cls">
              <span x-text="n.message"></span> <time x-bind:datetime="n.at" x-text="n.when"></time>
            </li>
          </template>
        </ol>
        <button type="button" data-bell-read disabled x-bind:disabled="cannotRead" x-on:click="readAll">
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
